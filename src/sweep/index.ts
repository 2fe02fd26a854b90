import type { AutomationInput } from '../automations';
import type { Pipeline } from '../composition';
import { sha256Hex } from '../hash';
import type { BatchKind, Journal, NewEvent } from '../journal';
import { type LogtoClient, MAX_PAGE_SIZE, type User } from '../logto-client';
import { type Enqueue, planFor } from '../pipeline';
import { type BrakeSettings, type HeldReport, scanItem, settleCollected } from './brakes';
import { CRON_GOVERNOR_WAIT_MS, pagedRun, savedState, totalOf } from './paged-run';

export interface ScanOptions {
  /** `reconcile` or `cleanup`: names the state row. */
  name: string;
  /** Only users at least this old are candidates (the cleanup's N days; 0 for the reconciliation). */
  lagMs: number;
  /** First run ever: candidates go back this far (users created before are left alone). */
  initialLookbackMs: number;
  /** Re-read this much before the cursor. */
  overlapMs: number;
  /** Pages (of 100 users) per invocation; the next invocation resumes. */
  maxPages: number;
  /**
   * A filter scan: Logto's own filter on `GET /api/users` (`excludeRoleId`, `excludeOrganizationId`) and the whole
   * filtered list each pass, not the users since a cursor; a pass starts at most every `everyMs`.
   */
  filter?: { query: Record<string, string>; everyMs: number };
  /**
   * Brakes on mass change: the run's candidates are collected in a batch (`<name>:<run start>`) and journaled when
   * the run ends if within the limits, otherwise held for an operator. Undefined: journaled page by page.
   */
  brakes?: { kind: BatchKind; settings: BrakeSettings; describe: (event: NewEvent) => string[] };
}

export interface ScanReport {
  name: string;
  pages: number;
  /** Candidates looked at in this invocation. */
  scanned: number;
  /** Journal events recorded (each becomes a durable run). */
  queued: number;
  /** True when the run reached the cursor; false when it stopped at `maxPages` (the next invocation resumes). */
  finished: boolean;
  /** A filter scan whose last pass is more recent than `everyMs`: nothing was read. */
  skipped?: boolean;
  /** With brakes, when the run finished over the limits: the held batch and why. */
  held?: HeldReport;
}

interface ScanDeps {
  journal: Pick<Journal, 'scans' | 'batches'>;
  enqueue: Pick<Enqueue, 'recordAndStart' | 'reopen'>;
  logto: Pick<LogtoClient, 'request'>;
  now: () => number;
}

/**
 * Pages through Logto's users (newest first — the only order `GET /api/users` offers) from the newest down to the
 * cursor, and journals an event for each candidate `decide` returns one for; the runs start right away. Progress is
 * saved after every page, so an interrupted scan resumes where it stopped; the cursor moves only when a run reached
 * it. Each page is one Management API call through the client's rate budget.
 */
export async function scanUsers(
  deps: ScanDeps,
  options: ScanOptions,
  decide: (users: User[], run: { startedAt: number }) => Promise<NewEvent[]>,
): Promise<ScanReport> {
  const { name, filter, brakes } = options;
  const store = deps.journal.scans;
  const now = deps.now();
  const state = await savedState(store, name, now - options.lagMs - options.initialLookbackMs);
  const report: ScanReport = { name, pages: 0, scanned: 0, queued: 0, finished: false };
  if (
    filter &&
    state.runStartedAt === null &&
    state.lastFinishedAt !== null &&
    now - state.lastFinishedAt < filter.everyMs
  )
    return { ...report, finished: true, skipped: true };
  const startedAt = state.runStartedAt ?? now;
  const upper = state.runUpper ?? now - options.lagMs;
  // A filter scan reads its whole filtered list (Logto filters it); a cursor scan the users since its cursor.
  const lower = filter ? Number.NEGATIVE_INFINITY : state.cursor - options.overlapMs;
  const batchId = `${name}:${startedAt}`;
  if (brakes) await deps.journal.batches.open(batchId, brakes.kind, 'collecting');
  let tenantUsers: number | null = null;
  const read = async (query: URLSearchParams) => {
    const { data: users, headers } = await deps.logto.request<User[]>('GET', '/users', {
      query,
      governorWaitMs: CRON_GOVERNOR_WAIT_MS,
    });
    tenantUsers = totalOf(headers) ?? tenantUsers;
    const downTo = state.scannedDownTo;
    // Users already handled in this run (equal times are handled again: the journal dedupes them).
    const candidates = users.filter(
      (user) =>
        user.createdAt <= upper && user.createdAt >= lower && (downTo === null || user.createdAt <= downTo),
    );
    const events = candidates.length > 0 ? await decide(candidates, { startedAt }) : [];
    // With brakes, candidates wait in the run's batch; without, they are journaled and started now.
    let queued: number;
    if (brakes) {
      // A user held in another batch of this kind, or discarded from one by an operator, is not proposed again.
      const subjects = events.flatMap((event) => (event.subject ? [event.subject] : []));
      const elsewhere = await deps.journal.batches.unreleasedSubjects(brakes.kind, subjects, batchId);
      queued = await deps.journal.batches.add(
        batchId,
        events
          .filter((event) => !event.subject || !elsewhere.has(event.subject))
          .map((event) => scanItem(event, brakes.describe(event))),
      );
    } else queued = (await deps.enqueue.recordAndStart(events)).length;
    report.scanned += candidates.length;
    report.queued += queued;
    state.scanned += candidates.length;
    state.queued += queued;
    const oldest = users[users.length - 1]?.createdAt;
    if (oldest !== undefined) state.scannedDownTo = Math.min(state.scannedDownTo ?? oldest, oldest);
    const last = users.length < MAX_PAGE_SIZE || (oldest !== undefined && oldest < lower);
    if (last && brakes) {
      // The run reached the cursor: its batch is released, or held over the limits.
      const held = await settleCollected(deps, batchId, tenantUsers, brakes.settings);
      if (held) report.held = held;
    }
    return last;
  };
  await pagedRun(
    store,
    state,
    report,
    { startedAt, upper, params: filter?.query, maxPages: options.maxPages, reread: true, now: deps.now },
    read,
    (at) => ({
      startedAt,
      finishedAt: at,
      from: lower,
      to: upper,
      scanned: state.scanned,
      queued: state.queued,
      held: report.held, // stored as JSON: absent when undefined
    }),
  );
  return report;
}

type ReconcileInput = Extract<AutomationInput, { source: 'reconcile' }>;

/**
 * The journal event of a sweep's input for its user, keyed by the hash of `key`. Its body is the input without
 * `source`: what src/sources/sweep.ts rebuilds the input from.
 */
async function sweepEvent(
  key: string,
  eventType: string,
  { source, ...body }: ReconcileInput | Extract<AutomationInput, { source: 'cleanup' }>,
): Promise<NewEvent> {
  return {
    eventKey: await sha256Hex(key),
    source,
    eventType,
    subject: body.user.id,
    status: 'received',
    rawBody: JSON.stringify(body),
    arrivedVia: 'sweep',
  };
}

/** What Logto's audit log says of a user: a sign-up (and through which application), or null (an API user). */
export async function signUpOf(
  logto: Pick<LogtoClient, 'request'>,
  userId: string,
): Promise<{ applicationId: string | null } | null> {
  const query = new URLSearchParams({
    userId,
    logKey: 'Interaction.Register.Submit',
    page: '1',
    page_size: '1',
  });
  const { data } = await logto.request<{ payload?: { applicationId?: unknown } }[]>('GET', '/logs', {
    query,
    governorWaitMs: CRON_GOVERNOR_WAIT_MS,
  });
  const entry = data[0];
  if (!entry) return null;
  const applicationId = entry.payload?.applicationId;
  return { applicationId: typeof applicationId === 'string' ? applicationId : null };
}

/**
 * The reconciliation sweep's decision, from facts: a user needs a run when an automation wants it and its action is
 * not done (or the automation has no action key). Whether the user signed up — and through which application — is
 * what Logto's audit log says (`Interaction.Register.Submit`), never the stored user's `applicationId` (null after a
 * sign-up too, reference §0.1). The log is read only for users with something possibly left to do: planned against
 * the ledger under every answer the log could give (not a sign-up; a sign-up through no known application or
 * through each application a rule names). Event key: the cursor sweep's run start + the user (a later sweep tries
 * again if it is still not done); a filter scan's period + the user, so the filter scans of one period journal a
 * user once, and rules with `enforce` claim one action per period (`pass`).
 */
export function reconcileDecider(
  pipeline: Pick<Pipeline, 'automations' | 'journal'>,
  logto: Pick<LogtoClient, 'request'>,
  options: { filterPeriodMs?: number; applications?: readonly string[] } = {},
) {
  const keysOf = (input: AutomationInput) =>
    // The ledger is checked whatever the dry-run setting: a done action needs no run either way.
    planFor(pipeline.automations, input, false).map((planned) => planned.actionKey);
  /** Per user (each with one input per hypothesis): whether some planned action has no key or is not done. */
  const pendingOf = async (inputs: AutomationInput[][]) => {
    const all = inputs.map((hypotheses) => hypotheses.flatMap(keysOf));
    const done = await pipeline.journal.actions.doneActions(
      all.flatMap((keys) => keys.filter((key): key is string => !!key)),
    );
    return all.map((keys) => keys.some((key) => key === undefined || !done.has(key)));
  };
  const hypotheses: ReconcileInput['signUp'][] = [
    null,
    ...[null, ...new Set(options.applications)].map((applicationId) => ({ applicationId })),
  ];
  return async (users: User[], run: { startedAt: number }): Promise<NewEvent[]> => {
    const period = options.filterPeriodMs
      ? Math.floor(run.startedAt / options.filterPeriodMs) * options.filterPeriodMs
      : undefined;
    const pass = period === undefined ? {} : { pass: period };
    const maybe = await pendingOf(
      users.map((user) => hypotheses.map((signUp) => ({ source: 'reconcile', user, signUp, ...pass }))),
    );
    const inputs: ReconcileInput[] = [];
    for (const user of users.filter((_, i) => maybe[i]))
      inputs.push({ source: 'reconcile', user, signUp: await signUpOf(logto, user.id), ...pass });
    const pending = await pendingOf(inputs.map((input) => [input]));
    const keyed = period === undefined ? `reconcile:${run.startedAt}` : `reconcile-filter:${period}`;
    const events: NewEvent[] = [];
    for (const [i, input] of inputs.entries())
      if (pending[i]) events.push(await sweepEvent(`${keyed}:${input.user.id}`, 'User.Reconcile', input));
    return events;
  };
}

/** The cleanup's decision: users who never signed in (and, to suspend, are not suspended yet). */
export function cleanupDecider(options: { action: 'suspend' | 'delete'; dryRun: boolean }) {
  const { action, dryRun } = options;
  return async (users: User[]): Promise<NewEvent[]> => {
    const events: NewEvent[] = [];
    for (const user of users) {
      if (user.lastSignInAt != null || (action === 'suspend' && user.isSuspended)) continue;
      events.push(
        await sweepEvent(`cleanup:${action}:${dryRun}:${user.id}`, `User.Cleanup.${action}`, {
          source: 'cleanup',
          user,
          action,
          dryRun,
        }),
      );
    }
    return events;
  };
}

export {
  type BrakeSettings,
  holdReplay,
  overLimit,
  RELEASE_CHUNK,
  releaseBatch,
  settleCollected,
  tenantSizeFor,
} from './brakes';
export { DEFAULT_RECOVERY, type HookRecovery, type RecoveryOptions, recoverDeliveries } from './recovery';
