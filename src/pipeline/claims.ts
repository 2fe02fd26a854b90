import type { ClaimRow, EventOutcome, Journal, JournalEntry } from '../journal';

/**
 * The claim policy: who may act on an action. One action (the sign-up roles of one user, their personal
 * organization, …) is done by exactly one event although Logto sends two events per sign-up, the sweep may find the
 * same user and operators replay. Every write here is one conditional statement or an atomic D1 batch
 * (src/journal), so two events racing for one action, a takeover racing a replay of the failed owner, or the
 * stale-run sweep racing a live run never let two events act.
 */

/** Outcome of claiming an action: act (`resumed`: earlier work for it may exist), or leave it to its owner. */
export type ActionClaim =
  | { act: true; resumed: boolean }
  | { act: false; by: string; status: 'claimed' | 'done' };

/** An action an automation will claim for an event, planned before its run starts. */
export interface PlannedClaim {
  automation: string;
  actionKey: string;
}

/**
 * Who may act on a claimed action (pure), as seen from a run that has started (its attempts count this run): nobody
 * again once it is done; its owner — resumed if an earlier run of it started or it took the claim over from a failed
 * event, fresh in its first run; another event only by taking over a claim whose owner failed or is gone.
 */
export function claimVerdict(row: ClaimRow | undefined, eventKey: string): ActionClaim | 'takeover' {
  if (!row) return { act: true, resumed: false };
  if (row.status === 'done') return { act: false, by: row.eventKey, status: 'done' };
  if (row.eventKey === eventKey)
    return { act: true, resumed: (row.ownerAttempts ?? 0) > 1 || row.takenOverFrom !== null };
  if (row.ownerStatus === 'failed' || row.ownerStatus === null) return 'takeover';
  return { act: false, by: row.eventKey, status: 'claimed' };
}

/** Rows of an owners query keyed by action. */
const byAction = (rows: Record<string, unknown>[] | undefined, journal: Journal) =>
  new Map((rows ?? []).map((row) => [String(row.action_key), journal.actions.toClaim(row)]));

/**
 * Claims `actionKeys` for `eventKey` in one atomic batch (and releases this event's unfinished claims on actions it
 * no longer plans), then takes over, one conditional statement each, the claims whose owner failed.
 */
export async function claimActions(
  journal: Journal,
  eventKey: string,
  actionKeys: readonly string[],
): Promise<Map<string, ActionClaim>> {
  const { actions } = journal;
  const results = await journal.batch([
    actions.releaseStatement(eventKey, actionKeys),
    ...actionKeys.map((key) => actions.claimStatement(key, eventKey)),
    actions.ownersStatement(actionKeys),
  ]);
  const owners = byAction(results.at(-1)?.results, journal);
  const claims = new Map<string, ActionClaim>();
  for (const actionKey of actionKeys) {
    const verdict = claimVerdict(owners.get(actionKey), eventKey);
    if (verdict !== 'takeover') {
      claims.set(actionKey, verdict);
      continue;
    }
    const owner = owners.get(actionKey)?.eventKey ?? '';
    const taken = await actions.takeOver(actionKey, owner, eventKey);
    claims.set(
      actionKey,
      taken ? { act: true, resumed: true } : { act: false, by: owner, status: 'claimed' },
    );
  }
  return claims;
}

/**
 * Starts a run in one atomic D1 batch in the usual case: reads the event and the claims it holds and, when it is
 * `received` or `running`, marks it running (one more attempt). `keysFor` turns the entry into the action keys the
 * run needs (undefined when it cannot go on). When those are exactly the claims the event took before its run, their
 * verdicts follow from the rows just read; otherwise they are claimed with {@link claimActions}. `entry` is as it
 * was before the update.
 */
export async function beginRun(
  journal: Journal,
  eventKey: string,
  keysFor: (entry: JournalEntry) => readonly string[] | undefined,
): Promise<{ entry?: JournalEntry; claims: Map<string, ActionClaim> }> {
  const [event, held] = await journal.batch([
    journal.events.selectStatement(eventKey),
    journal.actions.heldStatement(eventKey),
    journal.events.beginStatement(eventKey),
  ]);
  const row = event?.results[0];
  const entry = row ? journal.events.toEntry(row) : undefined;
  const claims = new Map<string, ActionClaim>();
  const keys = entry?.status === 'received' || entry?.status === 'running' ? keysFor(entry) : undefined;
  if (!entry || !keys) return { entry, claims };
  // As seen after this batch's update: this run is one more attempt.
  const own = byAction(
    held?.results?.map((row) => ({ ...row, owner_status: 'running', owner_attempts: entry.attempts + 1 })),
    journal,
  );
  const exact =
    keys.every((key) => own.has(key)) &&
    [...own.values()].every((action) => action.status === 'done' || keys.includes(action.actionKey));
  if (!exact) return { entry, claims: await claimActions(journal, eventKey, keys) };
  for (const key of keys) claims.set(key, claimVerdict(own.get(key), eventKey) as ActionClaim);
  return { entry, claims };
}

/** What an event left to others: the action and the event that holds it. */
export interface LeftTo {
  automation: string;
  actionKey: string;
  by: string;
  status: 'claimed' | 'done';
}

export const skippedResult = (left: LeftTo) => ({
  skipped: true,
  reason: `already ${left.status} by event ${left.by}`,
  coveredBy: left.by,
});

/**
 * Claims, before their runs start, the actions of a batch of newly received events (in order: the first event to
 * ask wins), and records as `covered` every event whose actions are all done or held by another live event — the
 * second event of a sign-up — so it needs no Workflow run. Returns the keys of the events settled that way. Two D1
 * round trips for the whole batch. An event left out claims for itself when its run starts.
 */
export async function settleBeforeStart(
  journal: Journal,
  events: readonly { eventKey: string; claims: readonly PlannedClaim[] }[],
): Promise<Set<string>> {
  const settled = new Set<string>();
  const { actions } = journal;
  const claimed = events.flatMap((event) =>
    event.claims.map((claim) => actions.claimStatement(claim.actionKey, event.eventKey)),
  );
  if (claimed.length === 0) return settled;
  const results = await journal.batch([
    ...claimed,
    actions.ownersStatement(events.flatMap((event) => event.claims.map((claim) => claim.actionKey))),
  ]);
  const owners = byAction(results.at(-1)?.results, journal);
  const writes: D1PreparedStatement[] = [];
  for (const event of events) {
    if (event.claims.length === 0) continue;
    const left: LeftTo[] = [];
    for (const claim of event.claims) {
      const verdict = claimVerdict(owners.get(claim.actionKey), event.eventKey);
      if (verdict === 'takeover' || verdict.act) break;
      left.push({ ...claim, by: verdict.by, status: verdict.status });
    }
    if (left.length < event.claims.length) continue;
    settled.add(event.eventKey);
    writes.push(...coverWrites(journal, event.eventKey, left, ['received']));
  }
  if (writes.length > 0) await journal.batch(writes);
  return settled;
}

/**
 * The statements that end `eventKey` (while it is in one of `from`) with `outcome`, and record what it left to others
 * (so it is re-opened if they fail): its `covered_by` is the event holding the first of them.
 */
const leaveWrites = (
  journal: Journal,
  eventKey: string,
  left: readonly LeftTo[],
  outcome: Omit<EventOutcome, 'coveredBy'>,
  from: readonly ('received' | 'running')[],
): D1PreparedStatement[] => [
  ...left.map((item) => journal.actions.coverStatement(item.actionKey, eventKey)),
  journal.events.finishStatement(eventKey, { ...outcome, coveredBy: left[0]?.by ?? null }, from),
];

/** The statements that record `eventKey` as covered by the events holding its actions. */
export function coverWrites(
  journal: Journal,
  eventKey: string,
  left: readonly LeftTo[],
  from: readonly ('received' | 'running')[],
  extraResult: Record<string, unknown> = {},
): D1PreparedStatement[] {
  const result: Record<string, unknown> = { ...extraResult };
  for (const item of left) result[item.automation] = skippedResult(item);
  return leaveWrites(journal, eventKey, left, { status: 'covered', result }, from);
}

/**
 * Ends a run in one atomic D1 batch: completes the actions it performed (while it still owns them), records what it
 * left to others (so it is re-opened if they fail), and marks the event `done`, or `failed` with the reason.
 */
export async function finishRun(
  journal: Journal,
  eventKey: string,
  run: {
    done: readonly { actionKey: string; detail: unknown }[];
    left: readonly LeftTo[];
    failure?: { code: string; message: string };
    result: unknown;
  },
): Promise<void> {
  await journal.batch([
    ...run.done.map((action) => journal.actions.completeStatement(action.actionKey, eventKey, action.detail)),
    ...leaveWrites(
      journal,
      eventKey,
      run.left,
      { status: run.failure ? 'failed' : 'done', failure: run.failure, result: run.result },
      ['running'],
    ),
  ]);
}
