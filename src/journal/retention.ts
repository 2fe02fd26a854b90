/**
 * Retention: what the journal forgets, and when (docs/journal.md, "What is stored and for how long"). Raw bodies
 * carry personal data (emails, phones, IPs, identities) and D1 is finite, so events that ended well are redacted and
 * later deleted; everything that keeps the guarantees stays: failed and unfinished events, events whose actions are
 * still open, the action ledger, watermarks and links. Each method changes at most `limit` events (actions, held
 * items) per call, oldest first, with the few rows that hang off them, in one atomic D1 batch: a caller runs a few per
 * cron invocation and the next invocation continues.
 */
import { changes, statements } from './d1';

/** What replaces a redacted body: still JSON, so every reader that parses bodies keeps working. */
export const REDACTED_BODY = '{"redacted":true}';

/**
 * The next resolved events that ended well before `?1`, oldest first, at most `?2`, meeting `condition` as well: the
 * rest of the partial index `index` (migrations/0008_retention.sql), whose condition is spelled out here exactly as
 * there — SQLite only uses a partial index when the query repeats its condition. Ended well: done, covered by another
 * event, ignored, or the Worker's own echo. Resolved: the event holds no unfinished claim (deleting its row would let
 * another event take the claim over) and left no action to an owner that still holds it unfinished (if that owner
 * fails, the journal cron re-opens this event, which needs its body and its row). Deterministic, so a batch may
 * repeat it. `INDEXED BY`: without statistics SQLite prefers `events_status_received` and sorts every settled row;
 * with it, a missing or unusable index is an error, not a silent scan.
 */
const settledEvents = (
  index: string,
  condition: string,
) => `SELECT e.event_key FROM events e INDEXED BY ${index}
  WHERE ${condition} AND e.status IN ('done', 'ignored', 'self', 'covered') AND e.finished_at < ?1
    AND NOT EXISTS (SELECT 1 FROM actions a WHERE a.event_key = e.event_key AND a.status = 'claimed')
    AND NOT EXISTS (SELECT 1 FROM coverage c JOIN actions a ON a.action_key = c.action_key
      WHERE c.event_key = e.event_key AND a.status = 'claimed')
  ORDER BY e.finished_at, e.event_key LIMIT ?2`;

/** The next events to redact (?1: settled before, ?2: how many). */
export const TO_REDACT = settledEvents('events_to_redact', 'e.redacted_at IS NULL');

/** The next events to delete. GitHub rows stay (redacted): GitHub signs no timestamp, the row is its replay guard. */
export const TO_DELETE = settledEvents('events_to_delete', "e.source <> 'github'");

/** When a held item stopped being needed: released (journaled or re-opened), else its batch's decision. */
const HELD_ITEM_AT = 'COALESCE(i.released_at, b.decided_at, b.created_at)';

export function createRetention(db: D1Database, now: () => number) {
  const { sql, run } = statements(db);
  return {
    /**
     * Replaces the body, result and error message of up to `limit` resolved events that ended well before `before`
     * with the marker, and forgets what they left to other events (`coverage`: only used to run them again, which a
     * redacted event cannot). Returns how many were redacted.
     */
    async redactEvents(before: number, limit: number): Promise<number> {
      const [, redacted] = await db.batch([
        sql(`DELETE FROM coverage WHERE event_key IN (${TO_REDACT})`, before, limit),
        sql(
          `UPDATE events SET raw_body = ?3, result = NULL, last_error_message = NULL, redacted_at = ?4
           WHERE event_key IN (${TO_REDACT})`,
          before,
          limit,
          REDACTED_BODY,
          now(),
        ),
      ]);
      return changes(redacted);
    },

    /**
     * Deletes up to `limit` resolved events that ended well before `before`, with their run timeline and coverage.
     * Their actions stay in the ledger (a done action is never done again, whoever did it). Returns how many.
     */
    async deleteEvents(before: number, limit: number): Promise<number> {
      const [, , events] = await db.batch(
        ['run_calls', 'coverage', 'events'].map((table) =>
          sql(`DELETE FROM ${table} WHERE event_key IN (${TO_DELETE})`, before, limit),
        ),
      );
      return changes(events);
    },

    /**
     * Forgets the detail of up to `limit` actions done before `before` (what was changed in Logto, or a handler's
     * return value, which may hold anything). The row, its status and its event stay. Returns how many.
     */
    redactActionDetails: (before: number, limit: number): Promise<number> =>
      run(
        `UPDATE actions SET detail = NULL WHERE action_key IN (
           SELECT action_key FROM actions INDEXED BY actions_detail_to_redact
           WHERE status = 'done' AND detail IS NOT NULL AND done_at < ?1
           ORDER BY done_at, action_key LIMIT ?2)`,
        before,
        limit,
      ),

    /**
     * Redacts up to `limit` items of released or discarded held batches that stopped being needed before `before`:
     * the journal event they carried (a whole Logto user) is dropped and the preview keeps only the user's ID and the
     * automations. Discarded batches stay (their subjects are not proposed again); released ones are deleted later.
     */
    redactHeldItems: (before: number, limit: number): Promise<number> =>
      run(
        `UPDATE held_items SET new_event = NULL, preview = json_set(preview,
           '$.user', json_object('id', json_extract(preview, '$.user.id')), '$.redacted', json('true'))
         WHERE rowid IN (SELECT i.rowid FROM held_batches b JOIN held_items i ON i.batch_id = b.batch_id
           WHERE b.status IN ('released', 'discarded') AND i.new_event IS NOT NULL AND ${HELD_ITEM_AT} < ?1
           LIMIT ?2)`,
        before,
        limit,
      ),

    /**
     * Deletes up to `limit` items of released batches released before `before`, then up to `limit` such batches left
     * without items. Returns how many items and batches.
     */
    async deleteReleasedBatches(before: number, limit: number): Promise<{ items: number; batches: number }> {
      const [items, batches] = await db.batch([
        sql(
          `DELETE FROM held_items WHERE rowid IN (SELECT i.rowid FROM held_batches b
             JOIN held_items i ON i.batch_id = b.batch_id
             WHERE b.status = 'released' AND ${HELD_ITEM_AT} < ?1 LIMIT ?2)`,
          before,
          limit,
        ),
        sql(
          `DELETE FROM held_batches WHERE batch_id IN (SELECT b.batch_id FROM held_batches b
             WHERE b.status = 'released' AND COALESCE(b.decided_at, b.created_at) < ?1
               AND NOT EXISTS (SELECT 1 FROM held_items i WHERE i.batch_id = b.batch_id) LIMIT ?2)`,
          before,
          limit,
        ),
      ]);
      return { items: changes(items), batches: changes(batches) };
    },
  };
}

export type Retention = ReturnType<typeof createRetention>;
