/**
 * The `held_batches` and `held_items` tables: the brakes on mass change. A scan run collects its candidates here
 * instead of journaling them; when the run ends they are released if within the limit, otherwise the batch is held
 * until an operator approves or discards it. A bulk replay over the limit is held the same way. Storage only: every
 * status change is one conditional statement; the policy lives in src/sweep/brakes.ts.
 */
import { changes, json, pageSize, statements } from './d1';
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

/** The columns of a {@link HeldBatch}, in its fields' order and named as them. */
const BATCH = `batch_id AS batchId, kind, status, item_count AS itemCount, reason, created_at AS createdAt,
  decided_at AS decidedAt, decided_by AS decidedBy`;

/** Statements per D1 batch when adding items (one round trip each). */
const ADD_CHUNK = 50;

export function createBatchesTable(db: D1Database, now: () => number) {
  const { sql, run, all, first } = statements(db);
  return {
    /** Opens a batch (`collecting` for a scan run, `held` for a replay); a second open of the same ID is a no-op. */
    async open(batchId: string, kind: BatchKind, status: 'collecting' | 'held', reason?: string) {
      await run(
        `INSERT INTO held_batches (batch_id, kind, status, reason, created_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (batch_id) DO NOTHING`,
        batchId,
        kind,
        status,
        reason ?? null,
        now(),
      );
    },

    /** Adds items (an item already in the batch is kept as it was); returns how many were new. */
    async add(batchId: string, items: Omit<HeldItem, 'releasedAt'>[]): Promise<number> {
      let added = 0;
      for (let i = 0; i < items.length; i += ADD_CHUNK) {
        const results = await db.batch(
          items.slice(i, i + ADD_CHUNK).map((item) =>
            sql(
              `INSERT INTO held_items (batch_id, event_key, subject, event_type, preview, new_event)
               VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (batch_id, event_key) DO NOTHING`,
              batchId,
              item.eventKey,
              item.subject,
              item.eventType,
              JSON.stringify(item.preview),
              item.newEvent === null ? null : JSON.stringify(item.newEvent),
            ),
          ),
        );
        const inserted = results.reduce((sum, result) => sum + changes(result), 0);
        added += inserted;
        if (inserted > 0)
          await run(
            'UPDATE held_batches SET item_count = item_count + ?2 WHERE batch_id = ?1',
            batchId,
            inserted,
          );
      }
      return added;
    },

    get: async (batchId: string): Promise<HeldBatch | undefined> =>
      (await first<HeldBatch>(`SELECT ${BATCH} FROM held_batches WHERE batch_id = ?1`, batchId)) ?? undefined,

    /** Batches, newest first, optionally of one status. */
    list: (filter: { status?: BatchStatus; limit?: number } = {}): Promise<HeldBatch[]> =>
      all<HeldBatch>(
        `SELECT ${BATCH} FROM held_batches WHERE (?1 IS NULL OR status = ?1) ORDER BY created_at DESC LIMIT ?2`,
        filter.status ?? null,
        pageSize(filter.limit),
      ),

    /** Items in key order, after `afterKey` (paging); `pending` only those not released yet. */
    async items(
      batchId: string,
      options: { limit: number; afterKey?: string; pending?: boolean },
    ): Promise<HeldItem[]> {
      const rows = await all(
        `SELECT event_key AS eventKey, subject, event_type AS eventType, preview, new_event AS newEvent,
           released_at AS releasedAt FROM held_items
         WHERE batch_id = ?1 AND event_key > ?2 ${options.pending ? 'AND released_at IS NULL' : ''}
         ORDER BY event_key LIMIT ?3`,
        batchId,
        options.afterKey ?? '',
        options.limit,
      );
      return rows.map(
        (row) =>
          ({ ...row, preview: JSON.parse(row.preview as string), newEvent: json(row.newEvent) }) as HeldItem,
      );
    },

    /** Moves a batch from one of `from` to `to`; false when it was not in one of them (someone else decided). */
    async transition(
      batchId: string,
      from: readonly BatchStatus[],
      to: BatchStatus,
      decision?: { by?: string; reason?: string },
    ): Promise<boolean> {
      const moved = await run(
        `UPDATE held_batches SET status = ?2, decided_at = IIF(?3 IS NULL, decided_at, ?4),
           decided_by = COALESCE(?3, decided_by), reason = COALESCE(?5, reason)
         WHERE batch_id = ?1 AND status IN (SELECT value FROM json_each(?6))`,
        batchId,
        to,
        decision?.by ?? null,
        now(),
        decision?.reason ?? null,
        JSON.stringify(from),
      );
      return moved > 0;
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
      const rows = await all<{ subject: string }>(
        `SELECT DISTINCT i.subject FROM held_items i JOIN held_batches b ON b.batch_id = i.batch_id
         WHERE b.kind = ?1 AND b.batch_id != ?2 AND b.status != 'released'
           AND i.subject IN (SELECT value FROM json_each(?3))`,
        kind,
        exceptBatchId,
        JSON.stringify(subjects),
      );
      return new Set(rows.map((row) => row.subject));
    },

    /** Marks items released (journaled or re-opened). */
    async markReleased(batchId: string, eventKeys: readonly string[]): Promise<void> {
      if (eventKeys.length === 0) return;
      await run(
        `UPDATE held_items SET released_at = ?2
         WHERE batch_id = ?1 AND event_key IN (SELECT value FROM json_each(?3))`,
        batchId,
        now(),
        JSON.stringify(eventKeys),
      );
    },
  };
}
export type BatchesTable = ReturnType<typeof createBatchesTable>;
