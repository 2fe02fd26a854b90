/**
 * The `events` table: one row per inbound event, the durable record the Worker answers 2xx after. Storage only: every
 * status change is one conditional statement (it names the statuses it may leave), so two writers racing for one row
 * cannot both win. Policy (who claims what, when a run is done) lives in src/pipeline.
 */
import { json, pageSize, type Row, statements } from './d1';

export type EventStatus = 'received' | 'running' | 'done' | 'failed' | 'ignored' | 'self' | 'covered';

export const EVENT_STATUSES: readonly EventStatus[] = [
  'received',
  'running',
  'done',
  'failed',
  'ignored',
  'self',
  'covered',
];

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
  updatedAt: number;
  /** How many times the event was replayed or re-opened; each run has its own Workflow instance ID. */
  replays: number;
  /** What the last run did, per automation (or would have done, in a dry run). */
  result: unknown;
  /** The sender's own ID of a callback (Stripe event id, `X-GitHub-Delivery`, `webhook-id`). */
  externalId: string | null;
  /** `covered`: the event that holds this event's actions (the first, when several). */
  coveredBy: string | null;
  /** When the run starter created the current run's Workflow instance (null: not started). */
  startedAt: number | null;
  /** How the event reached the Worker (null on rows from before this was recorded). */
  arrivedVia: ArrivedVia | null;
  /** When retention replaced its body, result and error message (retention.ts); null while intact. */
  redactedAt: number | null;
}

/** How an event reached the Worker: a live delivery, read back from Logto's hook log, or found by a sweep. */
export type ArrivedVia = 'delivered' | 'recovered' | 'sweep';

export interface NewEvent {
  eventKey: string;
  source: string;
  eventType: string;
  subject?: string | null;
  status: Extract<EventStatus, 'received' | 'ignored' | 'self'>;
  rawBody: string;
  externalId?: string | null;
  /** Why an event is `ignored`/`self` (stored in the last-error columns, e.g. `unknown_event`). */
  reason?: { code: string; message: string };
  /** Another key the same event may have been journaled under (a Logto event's raw-bytes key, before canonical keys). */
  legacyKey?: string;
  /** Default `delivered`. */
  arrivedVia?: ArrivedVia;
}

export interface ListFilter {
  status?: EventStatus;
  source?: string;
  eventType?: string;
  /** The user (or other subject) the event is about. */
  subject?: string;
  arrivedVia?: ArrivedVia;
  /** Inclusive lower bound on `receivedAt` (epoch ms). */
  since?: number;
  /** Exclusive upper bound on `receivedAt` (epoch ms). */
  until?: number;
  /** Page size, 1–100 (default 50). */
  limit?: number;
  /** Opaque cursor from the previous page. */
  cursor?: string;
}

/** How a run (or the settling before it) ends an event. */
export interface EventOutcome {
  status: Extract<EventStatus, 'done' | 'failed' | 'covered'>;
  failure?: { code: string; message: string };
  result?: unknown;
  coveredBy?: string | null;
}

/** Error messages are cut to this length before they are stored (they never contain secrets). */
export const MAX_ERROR_MESSAGE_CHARS = 500;
/** Results are cut to this many characters of JSON (a summary, not a log). */
export const MAX_RESULT_CHARS = 4000;
/** Statuses an operator may replay: `received`/`running` are being handled; `self` is never run (no loops). */
export const REPLAYABLE: readonly EventStatus[] = ['done', 'failed', 'ignored', 'covered'];

/** Whether an operator may replay the event: a replayable status, and its body not redacted by retention. */
export const isReplayable = (entry: Pick<JournalEntry, 'status' | 'redactedAt'>): boolean =>
  REPLAYABLE.includes(entry.status) && entry.redactedAt === null;

/** The columns of a {@link JournalEntry}, in its fields' order and named as them (`result` is still JSON text). */
const ENTRY = `event_key AS eventKey, source, event_type AS eventType, subject, received_at AS receivedAt, status,
  attempts, last_error_code AS lastErrorCode, last_error_message AS lastErrorMessage, raw_body AS rawBody,
  finished_at AS finishedAt, updated_at AS updatedAt, replays, result, external_id AS externalId,
  covered_by AS coveredBy, started_at AS startedAt, arrived_via AS arrivedVia, redacted_at AS redactedAt`;

/** A row of {@link ENTRY} columns as the entry. */
const toEntry = (row: Row) => ({ ...row, result: json(row.result) }) as JournalEntry;

/** Events per status; {@link countsOf} reads its rows. */
export const COUNTS = 'SELECT status, COUNT(*) AS n FROM events GROUP BY status';
export const countsOf = (rows: Row[]): Partial<Record<EventStatus, number>> =>
  Object.fromEntries(rows.map((row) => [row.status, row.n]));

export const resultJson = (result: unknown) => {
  if (result === undefined) return null;
  const text = JSON.stringify(result);
  return text.length <= MAX_RESULT_CHARS
    ? text
    : JSON.stringify({ truncated: text.slice(0, MAX_RESULT_CHARS) });
};

/** Workflow instance ID of an event's current run: `evt-<key>` for the first, `evt-<key>-r<n>` for replay n. */
export const instanceIdOf = (entry: Pick<JournalEntry, 'eventKey' | 'replays'>): string =>
  entry.replays > 0 ? `evt-${entry.eventKey}-r${entry.replays}` : `evt-${entry.eventKey}`;

const encodeCursor = (entry: JournalEntry) => btoa(`${entry.receivedAt}:${entry.eventKey}`);
function decodeCursor(cursor: string): { receivedAt: number; eventKey: string } | undefined {
  try {
    const [at, key] = atob(cursor).split(':');
    return at && key && /^\d+$/.test(at) ? { receivedAt: Number(at), eventKey: key } : undefined;
  } catch {
    return undefined;
  }
}

/** The events table over D1. Statement builders (`…Statement`) are for batches the pipeline composes. */
export function createEventsTable(db: D1Database, now: () => number) {
  const { sql, run, all, first } = statements(db);
  const selectStatement = (eventKey: string) =>
    sql(`SELECT ${ENTRY} FROM events WHERE event_key = ?1`, eventKey);
  return {
    /** The entry of a row {@link selectStatement} read. */
    toEntry,
    /** Records a new event; `inserted` is false for a duplicate (same key), which is left untouched. */
    async record(event: NewEvent): Promise<{ inserted: boolean }> {
      const at = now();
      const finished = event.status === 'received' ? null : at;
      // One statement: inserted unless the key — or the legacy key the same event had — is journaled already.
      const inserted = await run(
        `INSERT INTO events (event_key, source, event_type, subject, received_at, status, raw_body, finished_at,
           updated_at, last_error_code, last_error_message, external_id, arrived_via)
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?5, ?9, ?10, ?11, ?13
         WHERE NOT EXISTS (SELECT 1 FROM events WHERE event_key = ?12)
         ON CONFLICT (event_key) DO NOTHING`,
        event.eventKey,
        event.source,
        event.eventType,
        event.subject ?? null,
        at,
        event.status,
        event.rawBody,
        finished,
        event.reason?.code ?? null,
        event.reason?.message.slice(0, MAX_ERROR_MESSAGE_CHARS) ?? null,
        event.externalId ?? null,
        event.legacyKey ?? event.eventKey,
        event.arrivedVia ?? 'delivered',
      );
      return { inserted: inserted > 0 };
    },
    async get(eventKey: string): Promise<JournalEntry | undefined> {
      const row = await selectStatement(eventKey).first<Row>();
      return row ? toEntry(row) : undefined;
    },
    selectStatement,
    /** The statement {@link list} runs (tests check its query plan at scale). */
    listQuery(filter: ListFilter = {}): { sql: string; values: unknown[]; limit: number } {
      const limit = pageSize(filter.limit);
      const where: string[] = [];
      const values: unknown[] = [];
      const add = (clause: string, value: unknown) => {
        values.push(value);
        where.push(clause.replaceAll('?', `?${values.length}`));
      };
      if (filter.status) add('status = ?', filter.status);
      if (filter.source) add('source = ?', filter.source);
      if (filter.eventType) add('event_type = ?', filter.eventType);
      if (filter.subject) add('subject = ?', filter.subject);
      if (filter.arrivedVia) add('arrived_via = ?', filter.arrivedVia);
      if (filter.since !== undefined) add('received_at >= ?', filter.since);
      if (filter.until !== undefined) add('received_at < ?', filter.until);
      const cursor = filter.cursor ? decodeCursor(filter.cursor) : undefined;
      if (cursor) {
        values.push(cursor.receivedAt, cursor.eventKey);
        where.push(`(received_at, event_key) < (?${values.length - 1}, ?${values.length})`);
      }
      const query = `SELECT ${ENTRY} FROM events ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY received_at DESC, event_key DESC LIMIT ${limit + 1}`;
      return { sql: query, values, limit };
    },
    /** Newest first, keyset-paginated. */
    async list(filter: ListFilter = {}): Promise<{ entries: JournalEntry[]; nextCursor?: string }> {
      const { sql: query, values, limit } = this.listQuery(filter);
      const results = await all(query, ...values);
      const entries = results.slice(0, limit).map(toEntry);
      const last = entries[entries.length - 1];
      return results.length > limit && last ? { entries, nextCursor: encodeCursor(last) } : { entries };
    },
    /** Oldest first: events in `status` whose `column` (a time) is before `olderThan`. */
    async listOlder(
      status: EventStatus,
      column: 'received_at' | 'updated_at',
      olderThan: number,
      limit: number,
    ): Promise<JournalEntry[]> {
      const rows = await all(
        `SELECT ${ENTRY} FROM events WHERE status = ?1 AND ${column} < ?2 ORDER BY ${column} LIMIT ?3`,
        status,
        olderThan,
        limit,
      );
      return rows.map(toEntry);
    },
    /**
     * The run starter's queue, oldest first: `received` events whose run was not started — and, with
     * `restartStartedBefore`, those started before then whose run never began (their start is repeated: creating an
     * existing instance changes nothing).
     */
    async listToStart(limit: number, restartStartedBefore?: number): Promise<JournalEntry[]> {
      const rows = await all(
        `SELECT ${ENTRY} FROM events WHERE status = 'received' AND (started_at IS NULL OR started_at < ?1)
         ORDER BY received_at LIMIT ?2`,
        restartStartedBefore ?? Number.MIN_SAFE_INTEGER,
        limit,
      );
      return rows.map(toEntry);
    },
    /** Records that the runs of `eventKeys` were started (their Workflow instances exist). */
    markStartedStatement: (eventKeys: readonly string[]) =>
      sql(
        `UPDATE events SET started_at = ?1 WHERE status = 'received'
         AND event_key IN (SELECT value FROM json_each(?2))`,
        now(),
        JSON.stringify(eventKeys),
      ),
    /** Counts per status, for operators and tests. */
    counts: async () => countsOf(await all(COUNTS)),
    /** A run starts: `received`/`running` → `running`, one more attempt. Changes nothing in any other status. */
    beginStatement: (eventKey: string) =>
      sql(
        `UPDATE events SET status = 'running', attempts = attempts + 1, updated_at = ?2
         WHERE event_key = ?1 AND status IN ('received', 'running')`,
        eventKey,
        now(),
      ),
    /**
     * Ends an event that is in one of `from` (the run's own `running`, or `received` for one settled before its run).
     * `coveredBy` stays unless given.
     */
    finishStatement: (eventKey: string, outcome: EventOutcome, from: readonly EventStatus[]) =>
      sql(
        `UPDATE events SET status = ?1, last_error_code = ?2, last_error_message = ?3, finished_at = ?4,
           updated_at = ?4, result = COALESCE(?5, result), covered_by = COALESCE(?6, covered_by)
         WHERE event_key = ?7 AND status IN (SELECT value FROM json_each(?8))`,
        outcome.status,
        outcome.failure?.code ?? null,
        outcome.failure?.message.slice(0, MAX_ERROR_MESSAGE_CHARS) ?? null,
        now(),
        resultJson(outcome.result),
        outcome.coveredBy ?? null,
        eventKey,
        JSON.stringify(from),
      ),
    /**
     * Puts a finished event back to `received` for a new run (`replays` + 1: a new Workflow instance ID) and returns
     * it; undefined when the event is unknown, not in one of `from` (default: the statuses an operator may replay), or
     * redacted (its body is gone: a run would have nothing to work on).
     */
    async reopen(
      eventKey: string,
      from: readonly EventStatus[] = REPLAYABLE,
    ): Promise<JournalEntry | undefined> {
      const row = await first(
        `UPDATE events SET status = 'received', replays = replays + 1, finished_at = NULL, covered_by = NULL,
           started_at = NULL, updated_at = ?1 WHERE event_key = ?2 AND redacted_at IS NULL
           AND status IN (SELECT value FROM json_each(?3)) RETURNING ${ENTRY}`,
        now(),
        eventKey,
        JSON.stringify(from),
      );
      return row ? toEntry(row) : undefined;
    },
    /**
     * Fails a `running` event whose run is gone, only if its row has not changed since `seenUpdatedAt` (a live run
     * that wrote in between wins). True when it was failed.
     */
    async failIfUnchanged(
      eventKey: string,
      seenUpdatedAt: number,
      failure: { code: string; message: string },
    ): Promise<boolean> {
      const failed = await run(
        `UPDATE events SET status = 'failed', last_error_code = ?1, last_error_message = ?2, finished_at = ?3,
           updated_at = ?3 WHERE event_key = ?4 AND status = 'running' AND updated_at = ?5`,
        failure.code,
        failure.message.slice(0, MAX_ERROR_MESSAGE_CHARS),
        now(),
        eventKey,
        seenUpdatedAt,
      );
      return failed > 0;
    },
  };
}

export type EventsTable = ReturnType<typeof createEventsTable>;
