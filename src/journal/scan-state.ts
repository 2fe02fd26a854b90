import { json, statements } from './d1';

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

/** The `sweep_state` table: one row per user scan. */
export function createScanStateTable(db: D1Database) {
  const { run, first } = statements(db);
  return {
    async get(name: string): Promise<ScanState | undefined> {
      const row = await first(
        `SELECT name, cursor, run_started_at AS runStartedAt, run_upper AS runUpper, scanned_down_to AS scannedDownTo,
           resume_page AS resumePage, scanned, queued, last_finished_at AS lastFinishedAt, last_report AS lastReport
         FROM sweep_state WHERE name = ?1`,
        name,
      );
      return row ? ({ ...row, lastReport: json(row.lastReport) } as ScanState) : undefined;
    },
    /** Writes every column of the scan's row (creating it the first time). */
    async put(state: ScanState): Promise<void> {
      await run(
        `REPLACE INTO sweep_state (name, cursor, run_started_at, run_upper, scanned_down_to, scanned, queued,
           last_finished_at, last_report, resume_page) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)`,
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
      );
    },
  };
}
export type ScanStateTable = ReturnType<typeof createScanStateTable>;
