import type { Pipeline, Services } from '../composition';
import { EVENT_STATUSES, type EventStatus, type HeldBatch, type ListFilter } from '../journal';
import { log } from '../log';
import { holdReplay, overLimit, releaseBatch, tenantSizeFor } from '../sweep';

/**
 * What an operator does, whichever door they come through: the admin API (and the `npm run ops` CLI over it) and the
 * console call these, so a replay or a batch decision behaves the same everywhere.
 */

/**
 * A time from a query or form: epoch ms, or an ISO time (without a zone, as the console's `datetime-local` fields
 * send, it is UTC). Undefined when empty; NaN when unreadable.
 */
export function parseTime(value: string | undefined): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value);
  return Date.parse(/T[^Zz+-]*$/.test(value) ? `${value}Z` : value);
}

/**
 * The journal filter a list request asks for (`status`, `type`, `source`, `user`, `via`, `since`, `until`, `limit`,
 * `cursor`; empty values are no filter), or what is wrong with it.
 */
export function eventFilterOf(query: Record<string, string | undefined>): ListFilter | { invalid: string } {
  const status = query.status || undefined;
  if (status && !EVENT_STATUSES.includes(status as EventStatus))
    return { invalid: `status must be one of ${EVENT_STATUSES.join(', ')}` };
  const since = parseTime(query.since);
  const until = parseTime(query.until);
  if (Number.isNaN(since) || Number.isNaN(until))
    return { invalid: 'since/until must be ISO times or epoch ms' };
  const limit = query.limit ? Number(query.limit) : undefined;
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1 && limit <= 100))
    return { invalid: 'limit must be 1–100' };
  const via = query.via;
  return {
    status: status as EventStatus | undefined,
    eventType: query.type || undefined,
    source: query.source || undefined,
    subject: query.user || undefined,
    arrivedVia: via === 'delivered' || via === 'recovered' || via === 'sweep' ? via : undefined,
    since,
    until,
    limit,
    cursor: query.cursor || undefined,
  };
}

/** Most events one bulk replay restarts at once; the caller asks again for the rest (`remaining`). */
export const MAX_BULK_REPLAY = 500;

/** Most events one replay by filter (admin API) or of a failure group (console) counts, and holds over the brakes. */
export const MAX_HELD_REPLAY = 10_000;

/** What a bulk replay touches: enough of each journal row for a held batch's preview. */
export type ReplayEntry = { eventKey: string; eventType: string; subject: string | null; status: string };

/** Replays the given keys now (re-opened, then started through the enqueue path); says why each other key was not. */
export async function replayKeys(pipeline: Pipeline, keys: string[]) {
  const { journal, enqueue } = pipeline;
  // Handed over now, not in waitUntil: the operator wants to know. A failure leaves them `received` for the cron.
  const { reopened, skipped: notReopened } = await enqueue.reopen(keys);
  const skipped: { eventKey: string; reason: string }[] = [];
  for (const key of notReopened) {
    const current = await journal.events.get(key);
    const reason = !current
      ? 'not found'
      : current.redactedAt !== null
        ? `redacted by journal retention on ${new Date(current.redactedAt).toISOString()}: nothing to replay`
        : `status ${current.status} cannot be replayed`;
    skipped.push({ eventKey: key, reason });
  }
  return { replayed: reopened.map((entry) => entry.eventKey), skipped };
}

/** The brakes' verdict on replaying `count` events: the reason they would be held, or null. */
export async function replayVerdict(pipeline: Pipeline, services: Services, count: number) {
  const { brakes } = pipeline.recipes;
  const tenantUsers = await tenantSizeFor(count, brakes, services.logto);
  return { tenantUsers, reason: overLimit(count, tenantUsers, brakes) };
}

/**
 * An operator's bulk replay: held as a batch (for approval; its ID `replay:<now>:<random>`) over the brakes' limits,
 * otherwise the first `limit` (default {@link MAX_BULK_REPLAY}) replayed now. `remaining`: more are left for
 * another call.
 */
export async function bulkReplay(
  pipeline: Pipeline,
  services: Services,
  entries: readonly ReplayEntry[],
  now: number,
  limit = MAX_BULK_REPLAY,
) {
  const batchId = `replay:${now}:${crypto.randomUUID().slice(0, 8)}`;
  const { tenantUsers } = await replayVerdict(pipeline, services, entries.length);
  const held = await holdReplay(pipeline, entries, pipeline.recipes.brakes, batchId, tenantUsers);
  if (held) {
    log('warn', 'batch.held', { batchId, kind: 'replay', count: held.count, reason: held.reason });
    return { held };
  }
  const keys = entries.map((entry) => entry.eventKey);
  const result = await replayKeys(pipeline, keys.slice(0, limit));
  return { ...result, remaining: keys.length > limit };
}

/**
 * Approves or discards a held batch, once: `changed` is false when it was no longer held (decided by someone else).
 * An approval releases the first chunk now; the minute cron releases the rest of a large batch.
 */
export async function decideBatch(
  pipeline: Pipeline,
  batchId: string,
  decision: 'approve' | 'discard',
  by: string,
  via: 'admin' | 'console',
): Promise<{ batch?: HeldBatch; changed: boolean; released: number; remaining: boolean }> {
  const { batches } = pipeline.journal;
  const changed = await batches.transition(
    batchId,
    ['held'],
    decision === 'approve' ? 'approved' : 'discarded',
    { by },
  );
  let batch = await batches.get(batchId);
  let release = { released: 0, remaining: false };
  if (changed && batch) {
    log('info', decision === 'approve' ? 'batch.approved' : 'batch.discarded', {
      batchId,
      by,
      via,
      count: batch.itemCount,
    });
    if (decision === 'approve') {
      release = await releaseBatch(pipeline, batch);
      batch = await batches.get(batchId);
    }
  }
  return { batch, changed, ...release };
}
