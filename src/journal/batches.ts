/**
 * The `held_batches` and `held_items` tables: the brakes on mass change. A scan run collects its candidates here
 * instead of journaling them; when the run ends they are released if within the limit, otherwise the batch is held
 * until an operator approves or discards it. A bulk replay over the limit is held the same way. Storage only: every
 * status change is one conditional statement; the policy lives in src/sweep/brakes.ts.
 */
import type { NewEvent } from './events';

export type BatchKind = 'reconcile' | 'cleanup' | 'replay';
export type BatchStatus = 'collecting' | 'held' | 'approved' | 'released' | 'discarded';
export const BATCH_STATUSES: readonly BatchStatus[] = [
  'collecting',
  'held',
  'approved',
  'released',
  'discarded',
];

export interface HeldBatch {
  batchId: string;
  kind: BatchKind;
  status: BatchStatus;
  itemCount: number;
  reason: string | null;
  createdAt: number;
  decidedAt: number | null;
  decidedBy: string | null;
}

export interface HeldItem {
  eventKey: string;
  subject: string | null;
  eventType: string;
  /** Who and what: `{user, automations}` for a scan candidate, `{status, source}` for a replay. */
  preview: Record<string, unknown>;
  /** A scan candidate's journal event; null for a replay (the event is journaled already). */
  newEvent: NewEvent | null;
  releasedAt: number | null;
}

type Row = Record<string, unknown>;
const num = (value: unknown) => (value === null || value === undefined ? null : Number(value));

const batchOf = (row: Row): HeldBatch => ({
  batchId: String(row.batch_id),
  kind: row.kind as BatchKind,
  status: row.status as BatchStatus,
  itemCount: Number(row.item_count),
  reason: row.reason === null ? null : String(row.reason),
  createdAt: Number(row.created_at),
  decidedAt: num(row.decided_at),
  decidedBy: row.decided_by === null ? null : String(row.decided_by),
});

const itemOf = (row: Row): HeldItem => ({
  eventKey: String(row.event_key),
  subject: row.subject === null ? null : String(row.subject),
  eventType: String(row.event_type),
  preview: JSON.parse(String(row.preview)),
  newEvent: row.new_event === null ? null : JSON.parse(String(row.new_event)),
  releasedAt: num(row.released_at),
});

/** Statements per D1 batch when adding items (one round trip each). */
const ADD_CHUNK = 50;

export function createBatchesTable(db: D1Database, now: () => number) {
  return {
    /** Opens a batch (`collecting` for a scan run, `held` for a replay); a second open of the same ID is a no-op. */
    async open(batchId: string, kind: BatchKind, status: 'collecting' | 'held', reason?: string) {
      await db
        .prepare(
          `INSERT INTO held_batches (batch_id, kind, status, reason, created_at) VALUES (?1, ?2, ?3, ?4, ?5)
           ON CONFLICT (batch_id) DO NOTHING`,
        )
        .bind(batchId, kind, status, reason ?? null, now())
        .run();
    },

    /** Adds items (an item already in the batch is kept as it was); returns how many were new. */
    async add(batchId: string, items: Omit<HeldItem, 'releasedAt'>[]): Promise<number> {
      let added = 0;
      for (let i = 0; i < items.length; i += ADD_CHUNK) {
        const chunk = items.slice(i, i + ADD_CHUNK);
        const results = await db.batch(
          chunk.map((item) =>
            db
              .prepare(
                `INSERT INTO held_items (batch_id, event_key, subject, event_type, preview, new_event)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (batch_id, event_key) DO NOTHING`,
              )
              .bind(
                batchId,
                item.eventKey,
                item.subject,
                item.eventType,
                JSON.stringify(item.preview),
                item.newEvent === null ? null : JSON.stringify(item.newEvent),
              ),
          ),
        );
        const inserted = results.reduce((sum, result) => sum + (result.meta.changes ?? 0), 0);
        added += inserted;
        if (inserted > 0)
          await db
            .prepare('UPDATE held_batches SET item_count = item_count + ?2 WHERE batch_id = ?1')
            .bind(batchId, inserted)
            .run();
      }
      return added;
    },

    async get(batchId: string): Promise<HeldBatch | undefined> {
      const row = await db
        .prepare('SELECT * FROM held_batches WHERE batch_id = ?1')
        .bind(batchId)
        .first<Row>();
      return row ? batchOf(row) : undefined;
    },

    /** Batches, newest first, optionally of one status. */
    async list(filter: { status?: BatchStatus; limit?: number } = {}): Promise<HeldBatch[]> {
      const limit = Math.min(Math.max(filter.limit ?? 50, 1), 100);
      const { results } = filter.status
        ? await db
            .prepare('SELECT * FROM held_batches WHERE status = ?1 ORDER BY created_at DESC LIMIT ?2')
            .bind(filter.status, limit)
            .all<Row>()
        : await db
            .prepare('SELECT * FROM held_batches ORDER BY created_at DESC LIMIT ?1')
            .bind(limit)
            .all<Row>();
      return results.map(batchOf);
    },

    /** Items in key order, after `afterKey` (paging); `pending` only those not released yet. */
    async items(
      batchId: string,
      options: { limit: number; afterKey?: string; pending?: boolean },
    ): Promise<HeldItem[]> {
      const { results } = await db
        .prepare(
          `SELECT * FROM held_items WHERE batch_id = ?1 AND event_key > ?2 ${options.pending ? 'AND released_at IS NULL' : ''}
           ORDER BY event_key LIMIT ?3`,
        )
        .bind(batchId, options.afterKey ?? '', options.limit)
        .all<Row>();
      return results.map(itemOf);
    },

    /** Moves a batch from one of `from` to `to`; false when it was not in one of them (someone else decided). */
    async transition(
      batchId: string,
      from: readonly BatchStatus[],
      to: BatchStatus,
      decision?: { by?: string; reason?: string },
    ): Promise<boolean> {
      const placeholders = from.map((_, i) => `?${i + 6}`).join(', ');
      const result = await db
        .prepare(
          `UPDATE held_batches SET status = ?2,
             decided_at = CASE WHEN ?3 = 1 THEN ?4 ELSE decided_at END,
             decided_by = CASE WHEN ?3 = 1 THEN ?5 ELSE decided_by END,
             reason = COALESCE(?${from.length + 6}, reason)
           WHERE batch_id = ?1 AND status IN (${placeholders})`,
        )
        .bind(
          batchId,
          to,
          decision?.by !== undefined ? 1 : 0,
          now(),
          decision?.by ?? null,
          ...from,
          decision?.reason ?? null,
        )
        .run();
      return (result.meta.changes ?? 0) > 0;
    },

    /**
     * Which of `subjects` are in another batch of this kind not released: held or approved (awaiting a decision or
     * its release), still collecting, or discarded by an operator. A scan does not propose them again.
     */
    async unreleasedSubjects(
      kind: BatchKind,
      subjects: readonly string[],
      exceptBatchId: string,
    ): Promise<Set<string>> {
      const found = new Set<string>();
      for (let i = 0; i < subjects.length; i += 90) {
        const chunk = subjects.slice(i, i + 90);
        const { results } = await db
          .prepare(
            `SELECT DISTINCT i.subject FROM held_items i JOIN held_batches b ON b.batch_id = i.batch_id
             WHERE b.kind = ?1 AND b.batch_id != ?2 AND b.status != 'released'
               AND i.subject IN (${chunk.map((_, j) => `?${j + 3}`).join(', ')})`,
          )
          .bind(kind, exceptBatchId, ...chunk)
          .all<Row>();
        for (const row of results) found.add(String(row.subject));
      }
      return found;
    },

    /** Marks items released (journaled or re-opened). */
    async markReleased(batchId: string, eventKeys: readonly string[]): Promise<void> {
      if (eventKeys.length === 0) return;
      await db.batch(
        eventKeys.map((key) =>
          db
            .prepare('UPDATE held_items SET released_at = ?3 WHERE batch_id = ?1 AND event_key = ?2')
            .bind(batchId, key, now()),
        ),
      );
    },
  };
}
export type BatchesTable = ReturnType<typeof createBatchesTable>;
