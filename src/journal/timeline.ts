/**
 * The `run_calls` table: a run's timeline, one row per attempt of a durable call (a Management API call, or a few
 * reads), with its outcome, Logto's error code and duration — what the console shows for one event. Written inside
 * the call's step; a lost row loses a line of history, never the call.
 */
import { statements } from './d1';

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

/** Most rows kept per event: a run looping on failures cannot grow the table without end. */
export const MAX_CALLS_PER_EVENT = 500;

export function createTimelineTable(db: D1Database) {
  const { run, all } = statements(db);
  return {
    async record(call: CallRecord): Promise<void> {
      await run(
        `INSERT INTO run_calls (event_key, run, step, attempt, outcome, code, http_status, started_at, duration_ms)
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9
         WHERE (SELECT COUNT(*) FROM run_calls WHERE event_key = ?1) < ${MAX_CALLS_PER_EVENT}`,
        call.eventKey,
        call.run,
        call.step.slice(0, 200),
        call.attempt,
        call.outcome,
        call.code?.slice(0, 100) ?? null,
        call.httpStatus,
        call.startedAt,
        call.durationMs,
      );
    },
    /** An event's calls, oldest first. */
    forEvent: (eventKey: string): Promise<CallRecord[]> =>
      all<CallRecord>(
        `SELECT event_key AS eventKey, run, step, attempt, outcome, code, http_status AS httpStatus,
           started_at AS startedAt, duration_ms AS durationMs
         FROM run_calls WHERE event_key = ?1 ORDER BY started_at, rowid LIMIT ?2`,
        eventKey,
        MAX_CALLS_PER_EVENT,
      ),
  };
}
export type TimelineTable = ReturnType<typeof createTimelineTable>;
