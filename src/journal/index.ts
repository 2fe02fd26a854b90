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
  /** How many times an operator replayed the event; each run has its own Workflow instance ID. */
  replays: number;
  /** What the last run did, per automation (or would have done, in a dry run). */
  result: unknown;
  /** The sender's own ID of a callback (Stripe event id, `X-GitHub-Delivery`, `webhook-id`). */
  externalId: string | null;
}

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
}

export interface ListFilter {
  status?: EventStatus;
  source?: string;
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
  replays: Number(row.replays ?? 0),
  result: row.result ? JSON.parse(String(row.result)) : null,
  externalId: (row.external_id as string | null) ?? null,
});

/** Results are cut to this many characters of JSON (a summary, not a log). */
export const MAX_RESULT_CHARS = 4000;
const resultJson = (result: unknown) => {
  if (result === undefined) return null;
  const json = JSON.stringify(result);
  return json.length <= MAX_RESULT_CHARS
    ? json
    : JSON.stringify({ truncated: json.slice(0, MAX_RESULT_CHARS) });
};

/** Workflow instance ID of an event's current run: `evt-<key>` for the first, `evt-<key>-r<n>` for replay n. */
export const instanceIdOf = (entry: Pick<JournalEntry, 'eventKey' | 'replays'>): string =>
  entry.replays > 0 ? `evt-${entry.eventKey}-r${entry.replays}` : `evt-${entry.eventKey}`;

/**
 * Statuses an operator may replay. A `received`/`running` event is still being handled; a `self` event echoes this
 * Worker's own write and is never run (no loops).
 */
export const REPLAYABLE: EventStatus[] = ['done', 'failed', 'ignored'];

/** Outcome of claiming an action: act, or skip because another event already did (or is doing) it. */
export type ActionClaim =
  | {
      act: true;
      /** The action was claimed before (a failed event, or an earlier run of this one): partial work may exist. */
      resumed: boolean;
    }
  | { act: false; by: string; status: 'claimed' | 'done' };

/** An action an automation will claim for an event, planned before its run starts. */
export interface PlannedClaim {
  automation: string;
  actionKey: string;
}

interface ClaimRow {
  action_key: string;
  event_key: string;
  status: string;
  owner_status: string | null;
  owner_attempts: number | null;
  taken_over_from: string | null;
}

/**
 * Who may act on a claimed action: nobody again once it is done; its owner — resumed (partial work may exist) if it
 * already ran or took the claim over from a failed event, fresh if it claimed before its first run; another event
 * only by taking over a claim whose owner failed or is gone.
 */
function claimVerdict(row: ClaimRow | undefined, eventKey: string): ActionClaim | 'takeover' {
  if (!row) return { act: true, resumed: false };
  const owner = String(row.event_key);
  if (row.status === 'done') return { act: false, by: owner, status: 'done' };
  if (owner === eventKey)
    return { act: true, resumed: Number(row.owner_attempts ?? 0) > 0 || row.taken_over_from !== null };
  if (row.owner_status === 'failed' || row.owner_status === null) return 'takeover';
  return { act: false, by: owner, status: 'claimed' };
}

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
  const statusStatement = (
    key: string,
    status: EventStatus,
    error?: { code: string; message: string },
    result?: unknown,
  ) => {
    const finished = TERMINAL.includes(status) ? now() : null;
    return db
      .prepare(
        `UPDATE events SET status = ?1, last_error_code = ?2, last_error_message = ?3,
           finished_at = ?4, updated_at = ?5, result = COALESCE(?7, result) WHERE event_key = ?6`,
      )
      .bind(
        status,
        error?.code ?? null,
        error?.message.slice(0, MAX_ERROR_MESSAGE_CHARS) ?? null,
        finished,
        now(),
        key,
        resultJson(result),
      );
  };
  const setStatus = (...args: Parameters<typeof statusStatement>) => statusStatement(...args).run();
  const completeStatement = (actionKey: string, eventKey: string, detail: unknown) =>
    db
      .prepare(
        `UPDATE actions SET status = 'done', detail = ?1, done_at = ?2 WHERE action_key = ?3 AND event_key = ?4`,
      )
      .bind(JSON.stringify(detail ?? null).slice(0, 2000), now(), actionKey, eventKey);
  /** Oldest first: events in `status` whose `column` (a time) is before `olderThan`. */
  const listOlder = async (
    status: EventStatus,
    column: 'received_at' | 'updated_at',
    olderThan: number,
    limit: number,
  ): Promise<JournalEntry[]> => {
    const { results } = await db
      .prepare(`SELECT * FROM events WHERE status = ?1 AND ${column} < ?2 ORDER BY ${column} LIMIT ?3`)
      .bind(status, olderThan, limit)
      .all<Row>();
    return results.map(toEntry);
  };
  /**
   * Inserts the claims that are free (in order, so the first event to ask wins) and reads back every claim's owner,
   * with the owner event's status and attempts, in one batch.
   */
  const insertClaims = async (
    pairs: readonly { actionKey: string; eventKey: string }[],
    before: D1PreparedStatement[] = [],
  ): Promise<Map<string, ClaimRow>> => {
    const at = now();
    const statements = [...before];
    for (const pair of pairs)
      statements.push(
        db
          .prepare(
            `INSERT INTO actions (action_key, event_key, status, claimed_at) VALUES (?1, ?2, 'claimed', ?3)
           ON CONFLICT (action_key) DO NOTHING`,
          )
          .bind(pair.actionKey, pair.eventKey, at),
      );
    statements.push(
      db
        .prepare(
          `SELECT a.action_key, a.event_key, a.status, a.taken_over_from, e.status AS owner_status,
             e.attempts AS owner_attempts FROM actions a LEFT JOIN events e ON e.event_key = a.event_key
           WHERE a.action_key IN (SELECT value FROM json_each(?1))`,
        )
        .bind(JSON.stringify([...new Set(pairs.map((pair) => pair.actionKey))])),
    );
    const results = await db.batch<ClaimRow>(statements);
    const rows = results.at(-1)?.results ?? [];
    return new Map(rows.map((row) => [String(row.action_key), row]));
  };
  /**
   * Claims actions for `eventKey` so one action (e.g. the sign-up roles of one user) is performed by one event only,
   * although Logto sends two events for one sign-up. A done action is never claimed again; the same event may claim
   * again an action it did not finish (a retry or a replay); another event takes over only a claim whose owner has
   * failed. Unfinished claims of this event on actions it no longer plans (taken before its run under an older
   * configuration) are released, so they block no one. One D1 round trip (plus one per takeover).
   */
  async function claimActions(
    actionKeys: readonly string[],
    eventKey: string,
  ): Promise<Map<string, ActionClaim>> {
    const claims = new Map<string, ActionClaim>();
    const release = db
      .prepare(
        `DELETE FROM actions WHERE event_key = ?1 AND status = 'claimed'
         AND action_key NOT IN (SELECT value FROM json_each(?2))`,
      )
      .bind(eventKey, JSON.stringify(actionKeys));
    if (actionKeys.length === 0) {
      await release.run();
      return claims;
    }
    const owners = await insertClaims(
      actionKeys.map((actionKey) => ({ actionKey, eventKey })),
      [release],
    );
    for (const actionKey of actionKeys) {
      const verdict = claimVerdict(owners.get(actionKey), eventKey);
      if (verdict !== 'takeover') {
        claims.set(actionKey, verdict);
        continue;
      }
      const owner = String(owners.get(actionKey)?.event_key);
      const taken = await db
        .prepare(
          `UPDATE actions SET event_key = ?1, claimed_at = ?2, taken_over_from = ?4
           WHERE action_key = ?3 AND event_key = ?4 AND status = 'claimed'`,
        )
        .bind(eventKey, now(), actionKey, owner)
        .run();
      claims.set(
        actionKey,
        (taken.meta.changes ?? 0) > 0
          ? { act: true, resumed: true }
          : { act: false, by: owner, status: 'claimed' },
      );
    }
    return claims;
  }
  return {
    /** Records a new event; `inserted` is false for a duplicate (same key), which is left untouched. */
    async record(event: NewEvent): Promise<{ inserted: boolean }> {
      const at = now();
      const finished = event.status === 'received' ? null : at;
      const result = await db
        .prepare(
          `INSERT INTO events (event_key, source, event_type, subject, received_at, status, raw_body, finished_at,
             updated_at, last_error_code, last_error_message, external_id)
           VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?5, ?9, ?10, ?11) ON CONFLICT (event_key) DO NOTHING`,
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
          event.reason?.code ?? null,
          event.reason?.message.slice(0, MAX_ERROR_MESSAGE_CHARS) ?? null,
          event.externalId ?? null,
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
      if (filter.source) add('source = ?', filter.source);
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
    /** Marks an event done with what its run did (`result`, a JSON summary). */
    markDone: (eventKey: string, result?: unknown) =>
      setStatus(eventKey, 'done', undefined, result).then(() => undefined),
    markFailed: (eventKey: string, error: { code: string; message: string }, result?: unknown) =>
      setStatus(eventKey, 'failed', error, result).then(() => undefined),
    /** Events still `received` since before `olderThan` (epoch ms): their run was never started. */
    listUnstarted: (olderThan: number, limit = 100) => listOlder('received', 'received_at', olderThan, limit),
    /**
     * Puts a finished event back to `received` for a new run and returns the entry (with its new instance ID via
     * {@link instanceIdOf}); undefined when the event is unknown or not in a replayable status.
     */
    async markReplay(eventKey: string): Promise<JournalEntry | undefined> {
      const row = await db
        .prepare(
          `UPDATE events SET status = 'received', replays = replays + 1, finished_at = NULL, updated_at = ?1
           WHERE event_key = ?2 AND status IN ('done', 'failed', 'ignored') RETURNING *`,
        )
        .bind(now(), eventKey)
        .first<Row>();
      return row ? toEntry(row) : undefined;
    },
    claimActions,
    /**
     * Starts a run in one D1 round trip in the usual case: reads the event and the actions it holds and, when it is
     * `received` or `running`, marks it running (counting the attempt). `keysFor` turns the entry into the action
     * keys the run needs (undefined when the run cannot go on, e.g. an unparsable body). When those are exactly the
     * claims the event took before its run started, their verdicts follow from the rows just read; otherwise they are
     * claimed with {@link claimActions} (one more round trip). `entry` is as it was before the update.
     */
    async beginRun(
      eventKey: string,
      keysFor: (entry: JournalEntry) => readonly string[] | undefined,
    ): Promise<{ entry?: JournalEntry; claims: Map<string, ActionClaim> }> {
      const [event, held] = await db.batch<Row>([
        db.prepare('SELECT * FROM events WHERE event_key = ?1').bind(eventKey),
        db
          .prepare('SELECT action_key, event_key, status, taken_over_from FROM actions WHERE event_key = ?1')
          .bind(eventKey),
        db
          .prepare(
            `UPDATE events SET status = 'running', attempts = attempts + 1, updated_at = ?2
             WHERE event_key = ?1 AND status IN ('received', 'running')`,
          )
          .bind(eventKey, now()),
      ]);
      const row = event?.results[0];
      const entry = row ? toEntry(row) : undefined;
      const claims = new Map<string, ActionClaim>();
      if (!entry || (entry.status !== 'received' && entry.status !== 'running')) return { entry, claims };
      const keys = keysFor(entry);
      if (!keys) return { entry, claims };
      const own = new Map(
        (held?.results ?? []).map((action) => [
          String(action.action_key),
          {
            ...(action as unknown as ClaimRow),
            owner_status: entry.status,
            owner_attempts: entry.attempts,
          },
        ]),
      );
      const exact =
        keys.every((key) => own.has(key)) &&
        [...own.values()].every((action) => action.status === 'done' || keys.includes(action.action_key));
      if (!exact) return { entry, claims: await claimActions(keys, eventKey) };
      for (const key of keys) claims.set(key, claimVerdict(own.get(key), eventKey) as ActionClaim);
      return { entry, claims };
    },
    /**
     * Claims, before their runs start, the actions of a batch of newly received events (in order), and marks `done`
     * at once every event whose actions are all done or claimed by another live event — the second event of a
     * sign-up — so it needs no Workflow run. Returns the keys of the events settled that way. Two D1 round trips
     * for the whole batch. An event left out still claims for itself when its run starts (and finds its own claim).
     */
    async settleClaimedElsewhere(
      events: readonly { eventKey: string; claims: readonly PlannedClaim[] }[],
    ): Promise<Set<string>> {
      const settled = new Set<string>();
      const pairs = events.flatMap((event) =>
        event.claims.map((claim) => ({ actionKey: claim.actionKey, eventKey: event.eventKey })),
      );
      if (pairs.length === 0) return settled;
      const owners = await insertClaims(pairs);
      const at = now();
      const updates: D1PreparedStatement[] = [];
      for (const event of events) {
        if (event.claims.length === 0) continue;
        const results: Record<string, unknown> = {};
        for (const claim of event.claims) {
          const verdict = claimVerdict(owners.get(claim.actionKey), event.eventKey);
          if (verdict === 'takeover' || verdict.act) break;
          results[claim.automation] = {
            skipped: true,
            reason: `already ${verdict.status} by event ${verdict.by}`,
          };
        }
        if (Object.keys(results).length < event.claims.length) continue;
        settled.add(event.eventKey);
        updates.push(
          db
            .prepare(
              `UPDATE events SET status = 'done', finished_at = ?1, updated_at = ?1, result = ?2
               WHERE event_key = ?3 AND status = 'received'`,
            )
            .bind(at, resultJson(results), event.eventKey),
        );
      }
      if (updates.length > 0) await db.batch(updates);
      return settled;
    },
    /**
     * Ends a run in one D1 batch: marks the actions it performed done (with their summaries) and the event `done`, or
     * `failed` with the reason; `result` says what each automation did.
     */
    async finishRun(
      eventKey: string,
      run: {
        actions: readonly { actionKey: string; detail: unknown }[];
        failure?: { code: string; message: string };
        result: unknown;
      },
    ): Promise<void> {
      await db.batch([
        ...run.actions.map((action) => completeStatement(action.actionKey, eventKey, action.detail)),
        statusStatement(eventKey, run.failure ? 'failed' : 'done', run.failure, run.result),
      ]);
    },
    /** Links an external account (a Stripe customer, a GitHub user ID) to a Logto user; the latest link wins. */
    async link(provider: string, externalId: string, userId: string): Promise<void> {
      await db
        .prepare(
          `INSERT INTO links (provider, external_id, user_id, linked_at) VALUES (?1, ?2, ?3, ?4)
           ON CONFLICT (provider, external_id) DO UPDATE SET user_id = ?3, linked_at = ?4`,
        )
        .bind(provider, externalId, userId, now())
        .run();
    },
    async linkedUser(provider: string, externalId: string): Promise<string | undefined> {
      const row = await db
        .prepare('SELECT user_id FROM links WHERE provider = ?1 AND external_id = ?2')
        .bind(provider, externalId)
        .first<Row>();
      return row ? String(row.user_id) : undefined;
    },
    /** Which of `actionKeys` are done (by any event). */
    async doneActions(actionKeys: string[]): Promise<Set<string>> {
      const done = new Set<string>();
      // D1 binds at most 100 parameters per statement.
      for (let i = 0; i < actionKeys.length; i += 90) {
        const chunk = actionKeys.slice(i, i + 90);
        const { results } = await db
          .prepare(
            `SELECT action_key FROM actions WHERE status = 'done'
             AND action_key IN (${chunk.map((_, n) => `?${n + 1}`).join(', ')})`,
          )
          .bind(...chunk)
          .all<Row>();
        for (const row of results) done.add(String(row.action_key));
      }
      return done;
    },
    async getAction(
      actionKey: string,
    ): Promise<{ eventKey: string; status: string; detail: unknown; doneAt: number | null } | undefined> {
      const row = await db
        .prepare('SELECT * FROM actions WHERE action_key = ?1')
        .bind(actionKey)
        .first<Row>();
      if (!row) return undefined;
      return {
        eventKey: String(row.event_key),
        status: String(row.status),
        detail: row.detail ? JSON.parse(String(row.detail)) : null,
        doneAt: row.done_at === null ? null : Number(row.done_at),
      };
    },
    /** Events `running` whose row has not changed since before `olderThan` (epoch ms). */
    listStale: (olderThan: number, limit = 50) => listOlder('running', 'updated_at', olderThan, limit),
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
