import type { HeldBatch, HeldItem, Journal, NewEvent } from '../journal';
import { log } from '../log';
import type { LogtoClient } from '../logto-client';
import type { Enqueue } from '../pipeline';
import { totalOf } from './paged-run';

/** `brakes` in automations.config.ts. */
export interface BrakeSettings {
  maxUsers: number;
  /** A share of the tenant's users (0–1), or null. */
  maxShare: number | null;
}

/** The share limit holds nothing smaller than this: a run touching 3 users of a 10-user tenant is not a mass change. */
export const SHARE_FLOOR = 10;
/** Items journaled or re-opened per release step (the rest continues on the next step or the minute cron). */
export const RELEASE_CHUNK = 500;

/** Why `count` users is a mass change, or null when it is within the limits. */
export function overLimit(count: number, tenantUsers: number | null, brakes: BrakeSettings): string | null {
  if (count > brakes.maxUsers) return `${count} users > maxUsers ${brakes.maxUsers}`;
  if (brakes.maxShare !== null && tenantUsers !== null && tenantUsers > 0 && count >= SHARE_FLOOR) {
    const limit = Math.floor(brakes.maxShare * tenantUsers);
    if (count > limit)
      return `${count} users > maxShare ${brakes.maxShare} of ${tenantUsers} users (${limit})`;
  }
  return null;
}

/** A batch held over the limits: its ID, size and why. */
export interface HeldReport {
  batchId: string;
  count: number;
  reason: string;
}

export interface BrakeDeps {
  journal: Pick<Journal, 'batches'>;
  enqueue: Pick<Enqueue, 'recordAndStart' | 'reopen'>;
}

/** A held item for a scan candidate: who (the user's ID, email, username, name) and what (the automations). */
export function scanItem(event: NewEvent, automations: string[]): Omit<HeldItem, 'releasedAt'> {
  // A scan's body is its decider's JSON with the user.
  const { user } = JSON.parse(event.rawBody) as { user: Record<string, unknown> };
  return {
    eventKey: event.eventKey,
    subject: event.subject ?? null,
    eventType: event.eventType,
    preview: {
      user: {
        id: event.subject ?? user.id ?? null,
        primaryEmail: user.primaryEmail ?? null,
        username: user.username ?? null,
        name: user.name ?? null,
      },
      automations,
    },
    newEvent: event,
  };
}

/**
 * Releases up to `limit` items of an `approved` batch — a scan's candidates are journaled and started, a replay's
 * events re-opened — and marks the batch `released` once none is left. Safe to repeat and to run concurrently: the
 * journal dedupes recorded keys and a re-open only re-opens what is still replayable.
 */
export async function releaseBatch(
  deps: BrakeDeps,
  batch: HeldBatch,
  limit = RELEASE_CHUNK,
): Promise<{ released: number; remaining: boolean }> {
  if (batch.status !== 'approved') return { released: 0, remaining: false };
  const { batches } = deps.journal;
  let released = 0;
  let afterKey: string | undefined;
  while (released < limit) {
    const items = await batches.items(batch.batchId, {
      limit: Math.min(100, limit - released),
      afterKey,
      pending: true,
    });
    if (items.length === 0) break;
    const events = items.flatMap((item) => (item.newEvent ? [item.newEvent] : []));
    if (events.length > 0) await deps.enqueue.recordAndStart(events);
    const replays = items.filter((item) => !item.newEvent).map((item) => item.eventKey);
    if (replays.length > 0) await deps.enqueue.reopen(replays);
    await batches.markReleased(
      batch.batchId,
      items.map((item) => item.eventKey),
    );
    released += items.length;
    afterKey = items[items.length - 1]?.eventKey;
  }
  const left = await batches.items(batch.batchId, { limit: 1, pending: true });
  if (left.length === 0) await batches.transition(batch.batchId, ['approved'], 'released');
  return { released, remaining: left.length > 0 };
}

/**
 * Ends a scan run's collecting batch: within the limits it is approved and released, otherwise held for an operator
 * (nothing of it is done). Returns the held batch and why, or undefined.
 */
export async function settleCollected(
  deps: BrakeDeps,
  batchId: string,
  tenantUsers: number | null,
  brakes: BrakeSettings,
): Promise<HeldReport | undefined> {
  const { batches } = deps.journal;
  const batch = await batches.get(batchId);
  if (batch?.status !== 'collecting') return undefined;
  const reason = overLimit(batch.itemCount, tenantUsers, brakes);
  if (!reason) {
    await batches.transition(batchId, ['collecting'], 'approved');
    const approved = await batches.get(batchId);
    if (approved) await releaseBatch(deps, approved);
    return undefined;
  }
  await batches.transition(batchId, ['collecting'], 'held', { reason });
  log('warn', 'batch.held', {
    batchId,
    kind: batch.kind,
    count: batch.itemCount,
    reason,
    hint: `npm run ops -- approve ${batchId}`,
  });
  const held = await batches.get(batchId);
  return held && { batchId, count: held.itemCount, reason };
}

/**
 * The tenant's user count (`Total-Number` of a one-user page: one Management API call), for the share limit; null
 * when Logto cannot tell (the share limit is then not applied, `maxUsers` still is).
 */
export async function tenantUserCount(logto: Pick<LogtoClient, 'request'>): Promise<number | null> {
  try {
    const query = new URLSearchParams({ page: '1', page_size: '1' });
    const { headers } = await logto.request('GET', '/users', { query, governorWaitMs: 10_000 });
    return totalOf(headers);
  } catch {
    return null;
  }
}

/** The tenant's size when the share limit could matter for `count` users, else null (no Logto call). */
export const tenantSizeFor = (count: number, brakes: BrakeSettings, logto: Pick<LogtoClient, 'request'>) =>
  brakes.maxShare !== null && count >= SHARE_FLOOR && count <= brakes.maxUsers
    ? tenantUserCount(logto)
    : Promise.resolve(null);

/** Holds a bulk replay over the limits: its keys become a `held` batch; null when within them (replay now). */
export async function holdReplay(
  deps: Pick<BrakeDeps, 'journal'>,
  keys: readonly { eventKey: string; eventType: string; subject: string | null; status: string }[],
  brakes: BrakeSettings,
  batchId: string,
  tenantUsers: number | null = null,
): Promise<HeldReport | null> {
  const reason = overLimit(keys.length, tenantUsers, brakes);
  if (!reason) return null;
  await deps.journal.batches.open(batchId, 'replay', 'held', reason);
  await deps.journal.batches.add(
    batchId,
    keys.map((entry) => ({
      eventKey: entry.eventKey,
      subject: entry.subject,
      eventType: entry.eventType,
      preview: { user: { id: entry.subject }, status: entry.status },
      newEvent: null,
    })),
  );
  return { batchId, count: keys.length, reason };
}
