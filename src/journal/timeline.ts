/**
 * The `run_calls` table: a run's timeline, one row per attempt of a durable call (a Management API call, or a few
 * reads), with its outcome, Logto's error code and duration — what the console shows for one event. Written inside
 * the call's step; a lost row loses a line of history, never the call.
 */
export interface CallRecord {
  eventKey: string;
  run: number;
  step: string;
  attempt: number;
  outcome: 'ok' | 'error';
  code: string | null;
  httpStatus: number | null;
  startedAt: number;
  durationMs: number;
}

type Row = Record<string, unknown>;

/** Most rows kept per event: a run looping on failures cannot grow the table without end. */
export const MAX_CALLS_PER_EVENT = 500;

export function createTimelineTable(db: D1Database) {
  return {
    async record(call: CallRecord): Promise<void> {
      await db
        .prepare(
          `INSERT INTO run_calls (event_key, run, step, attempt, outcome, code, http_status, started_at, duration_ms)
           SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9
           WHERE (SELECT COUNT(*) FROM run_calls WHERE event_key = ?1) < ${MAX_CALLS_PER_EVENT}`,
        )
        .bind(
          call.eventKey,
          call.run,
          call.step.slice(0, 200),
          call.attempt,
          call.outcome,
          call.code?.slice(0, 100) ?? null,
          call.httpStatus,
          call.startedAt,
          call.durationMs,
        )
        .run();
    },
    /** An event's calls, oldest first. */
    async forEvent(eventKey: string): Promise<CallRecord[]> {
      const { results } = await db
        .prepare('SELECT * FROM run_calls WHERE event_key = ?1 ORDER BY started_at, rowid LIMIT ?2')
        .bind(eventKey, MAX_CALLS_PER_EVENT)
        .all<Row>();
      return results.map((row) => ({
        eventKey: String(row.event_key),
        run: Number(row.run),
        step: String(row.step),
        attempt: Number(row.attempt),
        outcome: row.outcome === 'ok' ? 'ok' : 'error',
        code: row.code === null ? null : String(row.code),
        httpStatus: row.http_status === null ? null : Number(row.http_status),
        startedAt: Number(row.started_at),
        durationMs: Number(row.duration_ms),
      }));
    },
  };
}
export type TimelineTable = ReturnType<typeof createTimelineTable>;
