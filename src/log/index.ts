/**
 * One structured log line per thing that happened: a JSON object on one line with `level`, `msg` (a stable name such
 * as `event.failed`) and fields — event key, type, source, user ID, automation, step, attempt, code, duration. Workers
 * Logs (`[observability]` in wrangler.toml) indexes the fields. Never pass a secret, a token, a payload or an
 * Authorization header: only identifiers, codes and counts.
 */
export type LogLevel = 'info' | 'warn' | 'error';

export interface LogFields {
  eventKey?: string;
  eventType?: string;
  source?: string;
  userId?: string | null;
  automation?: string;
  step?: string;
  attempt?: number;
  code?: string;
  durationMs?: number;
  [field: string]: unknown;
}

/** Longest string field kept (an error message, a reason): logs are for finding, not for storing. */
const MAX_FIELD_CHARS = 300;

export function log(level: LogLevel, msg: string, fields: LogFields = {}): void {
  const line: Record<string, unknown> = { level, msg };
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    line[name] =
      typeof value === 'string' && value.length > MAX_FIELD_CHARS
        ? `${value.slice(0, MAX_FIELD_CHARS)}…`
        : value;
  }
  // `info` lines go to console.log; warn and error to their own.
  console[level === 'info' ? 'log' : level](JSON.stringify(line));
}

/** The name of an error without its message (messages can carry values). */
export const errorName = (error: unknown) => (error instanceof Error ? error.name : typeof error);
