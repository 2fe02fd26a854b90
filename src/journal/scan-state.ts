/** Progress of a user scan (`sweep_state` table): the cursor between runs and the position inside a run. */
export interface ScanState {
  name: string;
  /** Users created at or after this time (epoch ms, minus the overlap) are the next run's candidates. */
  cursor: number;
  /** Set while a run is in progress (it resumes after an interruption). */
  runStartedAt: number | null;
  /** Upper bound of the run in progress: users created after it wait for the next run. */
  runUpper: number | null;
  /** Lowest `createdAt` the run in progress has processed (pages are newest first). */
  scannedDownTo: number | null;
  /** Page the run in progress resumes at (the last one it processed: new users only push older ones later). */
  resumePage: number | null;
  scanned: number;
  queued: number;
  lastFinishedAt: number | null;
  lastReport: unknown;
}

type Row = Record<string, unknown>;
const num = (value: unknown) => (value === null || value === undefined ? null : Number(value));

/** The `sweep_state` table: one row per user scan. */
export function createScanStateTable(db: D1Database) {
  return {
    async get(name: string): Promise<ScanState | undefined> {
      const row = await db.prepare('SELECT * FROM sweep_state WHERE name = ?1').bind(name).first<Row>();
      if (!row) return undefined;
      return {
        name,
        cursor: Number(row.cursor),
        runStartedAt: num(row.run_started_at),
        runUpper: num(row.run_upper),
        scannedDownTo: num(row.scanned_down_to),
        resumePage: num(row.resume_page),
        scanned: Number(row.scanned),
        queued: Number(row.queued),
        lastFinishedAt: num(row.last_finished_at),
        lastReport: row.last_report ? JSON.parse(String(row.last_report)) : null,
      };
    },
    async put(state: ScanState): Promise<void> {
      await db
        .prepare(
          `INSERT INTO sweep_state (name, cursor, run_started_at, run_upper, scanned_down_to, scanned, queued,
             last_finished_at, last_report, resume_page) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
           ON CONFLICT (name) DO UPDATE SET cursor = ?2, run_started_at = ?3, run_upper = ?4, scanned_down_to = ?5,
             scanned = ?6, queued = ?7, last_finished_at = ?8, last_report = ?9, resume_page = ?10`,
        )
        .bind(
          state.name,
          state.cursor,
          state.runStartedAt,
          state.runUpper,
          state.scannedDownTo,
          state.scanned,
          state.queued,
          state.lastFinishedAt,
          state.lastReport === null ? null : JSON.stringify(state.lastReport),
          state.resumePage,
        )
        .run();
    },
  };
}
export type ScanStateTable = ReturnType<typeof createScanStateTable>;
