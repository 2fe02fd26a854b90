/**
 * The ledger: `actions` (one row per thing done for a subject, claimed by the event that does it), `coverage` (which
 * actions an event left to their owner) and `effect_entries` (entries into non-idempotent steps). Storage only, and
 * every write is one conditional statement: a claim is `INSERT … ON CONFLICT DO NOTHING`, a takeover re-checks in the
 * same statement that the owner still holds the claim and has failed, a completion that the event still owns it.
 */
import { json, type Row, statements } from './d1';

/** A claim as read back: its owner and the owner event's status and attempts. */
export interface ClaimRow {
  actionKey: string;
  eventKey: string;
  status: 'claimed' | 'done';
  takenOverFrom: string | null;
  /** The owner event's status (null when the row has no event). */
  ownerStatus: string | null;
  ownerAttempts: number | null;
}

export interface ActionRecord {
  eventKey: string;
  status: string;
  detail: unknown;
  doneAt: number | null;
}

/**
 * A claim from a row of {@link ActionsTable.ownersStatement} — or of {@link ActionsTable.heldStatement} with the
 * owner's `owner_status` and `owner_attempts` added.
 */
const toClaim = (row: Row): ClaimRow => ({
  actionKey: row.action_key as string,
  eventKey: row.event_key as string,
  status: row.status as ClaimRow['status'],
  takenOverFrom: row.taken_over_from as string | null,
  ownerStatus: (row.owner_status as string | null) ?? null,
  ownerAttempts: (row.owner_attempts as number | null) ?? null,
});

export function createActionsTable(db: D1Database, now: () => number) {
  const { sql, run, all, first } = statements(db);
  return {
    toClaim,
    /** Claims `actionKey` for `eventKey` unless someone holds it (the first writer wins). */
    claimStatement: (actionKey: string, eventKey: string) =>
      sql(
        `INSERT INTO actions (action_key, event_key, status, claimed_at) VALUES (?1, ?2, 'claimed', ?3)
         ON CONFLICT (action_key) DO NOTHING`,
        actionKey,
        eventKey,
        now(),
      ),
    /** Every claim on `actionKeys`, with its owner's status and attempts. */
    ownersStatement: (actionKeys: readonly string[]) =>
      sql(
        `SELECT a.action_key, a.event_key, a.status, a.taken_over_from, e.status AS owner_status,
           e.attempts AS owner_attempts FROM actions a LEFT JOIN events e ON e.event_key = a.event_key
         WHERE a.action_key IN (SELECT value FROM json_each(?1))`,
        JSON.stringify([...new Set(actionKeys)]),
      ),
    /** The claims `eventKey` holds. */
    heldStatement: (eventKey: string) =>
      sql(
        'SELECT action_key, event_key, status, taken_over_from FROM actions WHERE event_key = ?1',
        eventKey,
      ),
    /**
     * Takes over `actionKey` from `from` for `to` — only while `from` still holds it unfinished and has failed (or
     * is gone): a replay of the failed owner that started first wins. True when taken.
     */
    async takeOver(actionKey: string, from: string, to: string): Promise<boolean> {
      const taken = await run(
        `UPDATE actions SET event_key = ?1, claimed_at = ?2, taken_over_from = ?4
         WHERE action_key = ?3 AND event_key = ?4 AND status = 'claimed'
           AND NOT EXISTS (SELECT 1 FROM events WHERE event_key = ?4 AND status <> 'failed')`,
        to,
        now(),
        actionKey,
        from,
      );
      return taken > 0;
    },
    /** Marks an action done — only while `eventKey` owns it. */
    completeStatement: (actionKey: string, eventKey: string, detail: unknown) =>
      sql(
        `UPDATE actions SET status = 'done', detail = ?1, done_at = ?2
         WHERE action_key = ?3 AND event_key = ?4 AND status = 'claimed'`,
        JSON.stringify(detail ?? null).slice(0, 2000),
        now(),
        actionKey,
        eventKey,
      ),
    /** Releases the unfinished claims of `eventKey` on actions other than `keep` (its plan changed). */
    releaseStatement: (eventKey: string, keep: readonly string[]) =>
      sql(
        `DELETE FROM actions WHERE event_key = ?1 AND status = 'claimed'
         AND action_key NOT IN (SELECT value FROM json_each(?2))`,
        eventKey,
        JSON.stringify(keep),
      ),
    /** Records that `eventKey` left `actionKey` to its owner. */
    coverStatement: (actionKey: string, eventKey: string) =>
      sql(
        'INSERT INTO coverage (action_key, event_key) VALUES (?1, ?2) ON CONFLICT DO NOTHING',
        actionKey,
        eventKey,
      ),
    /** Forgets what `eventKey` left to others (it is about to run again). */
    uncoverStatement: (eventKey: string) => sql('DELETE FROM coverage WHERE event_key = ?1', eventKey),
    /**
     * Events that left an action to an owner that has failed and still holds it unfinished: they must run again.
     * Starts from the failed events (few), not from the coverage table (one row per covered event).
     */
    async coveredByFailed(limit: number): Promise<string[]> {
      const rows = await all<{ event_key: string }>(
        `SELECT DISTINCT c.event_key FROM events o
         JOIN actions a ON a.event_key = o.event_key AND a.status = 'claimed'
         JOIN coverage c ON c.action_key = a.action_key
         JOIN events e ON e.event_key = c.event_key AND e.status IN ('covered', 'done')
         WHERE o.status = 'failed' LIMIT ?1`,
        limit,
      );
      return rows.map((row) => row.event_key);
    },
    /** Which of `actionKeys` are done (by any event). */
    async doneActions(actionKeys: readonly string[]): Promise<Set<string>> {
      const rows = await all<{ action_key: string }>(
        `SELECT action_key FROM actions WHERE status = 'done'
         AND action_key IN (SELECT value FROM json_each(?1))`,
        JSON.stringify(actionKeys),
      );
      return new Set(rows.map((row) => row.action_key));
    },
    async get(actionKey: string): Promise<ActionRecord | undefined> {
      const row = await first(
        'SELECT event_key AS eventKey, status, detail, done_at AS doneAt FROM actions WHERE action_key = ?1',
        actionKey,
      );
      return row ? ({ ...row, detail: json(row.detail) } as ActionRecord) : undefined;
    },
    /**
     * Counts one more entry into a non-idempotent step, before it calls Logto, and returns the count and when the
     * previous entry was (0 and null on the first). One statement.
     */
    async enterEffect(
      effectKey: string,
    ): Promise<{ entries: number; previousAt: number | null; at: number }> {
      const at = now();
      // `previous_at` is the last entry's time from the second entry on (NULL on the first).
      const row = await first<{ entries: number; previousAt: number | null }>(
        `INSERT INTO effect_entries (effect_key, entries, first_at, last_at) VALUES (?1, 1, ?2, ?2)
         ON CONFLICT (effect_key) DO UPDATE SET entries = entries + 1, previous_at = last_at, last_at = ?2
         RETURNING entries, previous_at AS previousAt`,
        effectKey,
        at,
      );
      return { entries: row?.entries ?? 1, previousAt: row?.previousAt ?? null, at };
    },
    /**
     * Takes back the entry made at `at`, when the step turned out to send nothing (the rate governor had no slot):
     * a call that never left must not make the next attempt look uncertain. Only while that entry is the last.
     */
    async leaveEffect(effectKey: string, at: number): Promise<void> {
      await db.batch([
        sql(
          'DELETE FROM effect_entries WHERE effect_key = ?1 AND last_at = ?2 AND entries = 1',
          effectKey,
          at,
        ),
        sql(
          `UPDATE effect_entries SET entries = entries - 1, last_at = COALESCE(previous_at, first_at),
             previous_at = NULL WHERE effect_key = ?1 AND last_at = ?2 AND entries > 1`,
          effectKey,
          at,
        ),
      ]);
    },
    /** When a non-idempotent step was last entered (null: never). */
    async lastEffectEntry(effectKey: string): Promise<number | null> {
      const row = await first<{ last_at: number }>(
        'SELECT last_at FROM effect_entries WHERE effect_key = ?1',
        effectKey,
      );
      return row?.last_at ?? null;
    },
  };
}

export type ActionsTable = ReturnType<typeof createActionsTable>;
