/**
 * The D1 journal: the durable record of every inbound event. Recording is `INSERT … ON CONFLICT DO NOTHING` on the
 * event key, so a duplicate delivery is detected by the primary key and changes nothing.
 */

export type EventStatus = 'received' | 'running' | 'done' | 'failed' | 'ignored' | 'self';

export interface JournalEntry {
  eventKey: string;
  source: string;
  eventType: string;
  subject: string | null;
  receivedAt: number;
  status: EventStatus;
  attempts: number;
  lastErrorCode: string | null;
  lastErrorMessage: string | null;
  rawBody: string;
  finishedAt: number | null;
}

export interface NewEvent {
  eventKey: string;
  source: string;
  eventType: string;
  subject?: string | null;
  status: Extract<EventStatus, 'received' | 'ignored' | 'self'>;
  rawBody: string;
}

export interface ListFilter {
  status?: EventStatus;
  eventType?: string;
  /** Inclusive lower bound on `receivedAt` (epoch ms). */
  since?: number;
  /** Exclusive upper bound on `receivedAt` (epoch ms). */
  until?: number;
  /** Page size, 1–100 (default 50). */
  limit?: number;
  /** Opaque cursor from the previous page. */
  cursor?: string;
}

/** Error messages are cut to this length before they are stored (they never contain secrets). */
export const MAX_ERROR_MESSAGE_CHARS = 500;
const TERMINAL: EventStatus[] = ['done', 'failed', 'ignored', 'self'];

type Row = Record<string, unknown>;
const toEntry = (row: Row): JournalEntry => ({
  eventKey: String(row.event_key),
  source: String(row.source),
  eventType: String(row.event_type),
  subject: (row.subject as string | null) ?? null,
  receivedAt: Number(row.received_at),
  status: row.status as EventStatus,
  attempts: Number(row.attempts),
  lastErrorCode: (row.last_error_code as string | null) ?? null,
  lastErrorMessage: (row.last_error_message as string | null) ?? null,
  rawBody: String(row.raw_body),
  finishedAt: row.finished_at === null ? null : Number(row.finished_at),
});

const encodeCursor = (entry: JournalEntry) => btoa(`${entry.receivedAt}:${entry.eventKey}`);
function decodeCursor(cursor: string): { receivedAt: number; eventKey: string } | undefined {
  try {
    const [at, key] = atob(cursor).split(':');
    return at && key && /^\d+$/.test(at) ? { receivedAt: Number(at), eventKey: key } : undefined;
  } catch {
    return undefined;
  }
}

/** Creates the journal over a D1 database (`env.JOURNAL`). */
export function createJournal(db: D1Database, now: () => number = Date.now) {
  const setStatus = (key: string, status: EventStatus, error?: { code: string; message: string }) => {
    const finished = TERMINAL.includes(status) ? now() : null;
    return db
      .prepare(
        `UPDATE events SET status = ?1, last_error_code = ?2, last_error_message = ?3,
           finished_at = ?4, updated_at = ?5 WHERE event_key = ?6`,
      )
      .bind(
        status,
        error?.code ?? null,
        error?.message.slice(0, MAX_ERROR_MESSAGE_CHARS) ?? null,
        finished,
        now(),
        key,
      )
      .run();
  };
  return {
    /** Records a new event; `inserted` is false for a duplicate (same key), which is left untouched. */
    async record(event: NewEvent): Promise<{ inserted: boolean }> {
      const at = now();
      const finished = event.status === 'received' ? null : at;
      const result = await db
        .prepare(
          `INSERT INTO events (event_key, source, event_type, subject, received_at, status, raw_body, finished_at, updated_at)
           VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?5) ON CONFLICT (event_key) DO NOTHING`,
        )
        .bind(
          event.eventKey,
          event.source,
          event.eventType,
          event.subject ?? null,
          at,
          event.status,
          event.rawBody,
          finished,
        )
        .run();
      return { inserted: (result.meta.changes ?? 0) > 0 };
    },
    async get(eventKey: string): Promise<JournalEntry | undefined> {
      const row = await db.prepare('SELECT * FROM events WHERE event_key = ?1').bind(eventKey).first<Row>();
      return row ? toEntry(row) : undefined;
    },
    /** Newest first, keyset-paginated. */
    async list(filter: ListFilter = {}): Promise<{ entries: JournalEntry[]; nextCursor?: string }> {
      const limit = Math.min(100, Math.max(1, filter.limit ?? 50));
      const where: string[] = [];
      const values: unknown[] = [];
      const add = (clause: string, value: unknown) => {
        values.push(value);
        where.push(clause.replaceAll('?', `?${values.length}`));
      };
      if (filter.status) add('status = ?', filter.status);
      if (filter.eventType) add('event_type = ?', filter.eventType);
      if (filter.since !== undefined) add('received_at >= ?', filter.since);
      if (filter.until !== undefined) add('received_at < ?', filter.until);
      const cursor = filter.cursor ? decodeCursor(filter.cursor) : undefined;
      if (cursor) {
        values.push(cursor.receivedAt, cursor.eventKey);
        where.push(`(received_at, event_key) < (?${values.length - 1}, ?${values.length})`);
      }
      const sql = `SELECT * FROM events ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY received_at DESC, event_key DESC LIMIT ${limit + 1}`;
      const { results } = await db
        .prepare(sql)
        .bind(...values)
        .all<Row>();
      const entries = results.slice(0, limit).map(toEntry);
      const last = entries[entries.length - 1];
      return results.length > limit && last ? { entries, nextCursor: encodeCursor(last) } : { entries };
    },
    /** Marks an event running and counts the attempt. */
    async markRunning(eventKey: string): Promise<void> {
      await db
        .prepare(
          `UPDATE events SET status = 'running', attempts = attempts + 1, updated_at = ?1 WHERE event_key = ?2`,
        )
        .bind(now(), eventKey)
        .run();
    },
    markDone: (eventKey: string) => setStatus(eventKey, 'done').then(() => undefined),
    markFailed: (eventKey: string, error: { code: string; message: string }) =>
      setStatus(eventKey, 'failed', error).then(() => undefined),
    /** Events still `received` since before `olderThan` (epoch ms): their run was never started. */
    async listUnstarted(olderThan: number, limit = 100): Promise<JournalEntry[]> {
      const { results } = await db
        .prepare(
          `SELECT * FROM events WHERE status = 'received' AND received_at < ?1 ORDER BY received_at LIMIT ?2`,
        )
        .bind(olderThan, limit)
        .all<Row>();
      return results.map(toEntry);
    },
    /** Counts per status, for operators and tests. */
    async counts(): Promise<Partial<Record<EventStatus, number>>> {
      const { results } = await db
        .prepare('SELECT status, COUNT(*) AS n FROM events GROUP BY status')
        .all<Row>();
      return Object.fromEntries(results.map((row) => [String(row.status), Number(row.n)]));
    },
  };
}

export type Journal = ReturnType<typeof createJournal>;
