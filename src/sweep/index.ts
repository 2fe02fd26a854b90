import type { AutomationInput } from '../automations';
import type { Pipeline } from '../composition';
import { sha256Hex } from '../hash';
import type { BatchKind, Journal, NewEvent, ScanState } from '../journal';
import { type LogtoClient, MAX_PAGE_SIZE, type User } from '../logto-client';
import { type Enqueue, planFor } from '../pipeline';
import { type BrakeSettings, scanItem, settleCollected } from './brakes';

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
  held?: { batchId: string; count: number; reason: string };
}

interface ScanDeps {
  journal: Pick<Journal, 'scans' | 'batches'>;
  enqueue: Pick<Enqueue, 'recordAndStart' | 'reopen'>;
  logto: Pick<LogtoClient, 'request'>;
  now: () => number;
}

/** A scan waits this long at most for a rate-governor slot per page (it runs in a cron, not a request). */
const SCAN_GOVERNOR_WAIT_MS = 30_000;

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
  const store = deps.journal.scans;
  const now = deps.now();
  const saved = await store.get(options.name);
  const state: ScanState = saved ?? {
    name: options.name,
    cursor: now - options.lagMs - options.initialLookbackMs,
    runStartedAt: null,
    runUpper: null,
    scannedDownTo: null,
    resumePage: null,
    scanned: 0,
    queued: 0,
    lastFinishedAt: null,
    lastReport: null,
  };
  if (
    options.filter &&
    state.runStartedAt === null &&
    state.lastFinishedAt !== null &&
    now - state.lastFinishedAt < options.filter.everyMs
  )
    return { name: options.name, pages: 0, scanned: 0, queued: 0, finished: true, skipped: true };
  if (state.runStartedAt === null) {
    Object.assign(state, {
      runStartedAt: now,
      runUpper: now - options.lagMs,
      scannedDownTo: null,
      resumePage: null,
      scanned: 0,
      queued: 0,
    });
  }
  // A filter scan reads its whole filtered list (Logto filters it); a cursor scan the users since its cursor.
  const lower = options.filter ? Number.NEGATIVE_INFINITY : state.cursor - options.overlapMs;
  const upper = state.runUpper ?? now;
  const report: ScanReport = { name: options.name, pages: 0, scanned: 0, queued: 0, finished: false };
  const brakes = options.brakes;
  const batchId = `${options.name}:${state.runStartedAt}`;
  if (brakes) await deps.journal.batches.open(batchId, brakes.kind, 'collecting');
  let tenantUsers: number | null = null;
  for (let page = state.resumePage ?? 1; report.pages < options.maxPages; page++) {
    const query = new URLSearchParams({
      ...options.filter?.query,
      page: String(page),
      page_size: String(MAX_PAGE_SIZE),
    });
    const { data: users, headers } = await deps.logto.request<User[]>('GET', '/users', {
      query,
      governorWaitMs: SCAN_GOVERNOR_WAIT_MS,
    });
    const total = Number(headers.get('total-number'));
    if (headers.has('total-number') && Number.isFinite(total)) tenantUsers = total;
    report.pages++;
    const downTo = state.scannedDownTo;
    // Users already handled in this run (equal times are handled again: the journal dedupes them).
    const candidates = users.filter(
      (user) =>
        user.createdAt <= upper && user.createdAt >= lower && (downTo === null || user.createdAt <= downTo),
    );
    const events =
      candidates.length > 0 ? await decide(candidates, { startedAt: state.runStartedAt ?? now }) : [];
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
    if (users.length < MAX_PAGE_SIZE || (oldest !== undefined && oldest < lower)) {
      report.finished = true;
      break;
    }
    state.resumePage = page;
    await store.put(state);
  }
  if (report.finished && brakes) {
    const settled = await settleCollected(deps, batchId, tenantUsers, brakes.settings);
    if (settled.held && settled.batch)
      report.held = { batchId, count: settled.batch.itemCount, reason: settled.held };
  }
  if (report.finished) {
    state.lastReport = {
      startedAt: state.runStartedAt,
      finishedAt: deps.now(),
      from: lower,
      to: upper,
      scanned: state.scanned,
      queued: state.queued,
      ...(report.held ? { held: report.held } : {}),
    };
    Object.assign(state, {
      cursor: upper,
      runStartedAt: null,
      runUpper: null,
      scannedDownTo: null,
      resumePage: null,
      lastFinishedAt: deps.now(),
    });
  }
  await store.put(state);
  return report;
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
    governorWaitMs: 30_000,
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
  const pendingOf = async (inputs: AutomationInput[][]) => {
    const all = inputs.map((hypotheses) => hypotheses.flatMap(keysOf));
    const done = await pipeline.journal.actions.doneActions(
      all.flatMap((keys) => keys.filter((key): key is string => !!key)),
    );
    return all.map(
      (keys) =>
        keys.some((key) => key === undefined) || keys.some((key) => key !== undefined && !done.has(key)),
    );
  };
  const hypotheses: (AutomationInput & { source: 'reconcile' })['signUp'][] = [
    null,
    { applicationId: null },
    ...new Set(options.applications ?? []),
  ].map((answer) => (typeof answer === 'string' ? { applicationId: answer } : answer));
  return async (users: User[], run: { startedAt: number }): Promise<NewEvent[]> => {
    const period = options.filterPeriodMs
      ? Math.floor(run.startedAt / options.filterPeriodMs) * options.filterPeriodMs
      : undefined;
    const pass = period === undefined ? {} : { pass: period };
    const maybe = await pendingOf(
      users.map((user) => hypotheses.map((signUp) => ({ source: 'reconcile', user, signUp, ...pass }))),
    );
    const candidates = users.filter((_, i) => maybe[i]);
    const inputs: AutomationInput[] = [];
    for (const user of candidates)
      inputs.push({ source: 'reconcile', user, signUp: await signUpOf(logto, user.id), ...pass });
    const pending = await pendingOf(inputs.map((input) => [input]));
    const events: NewEvent[] = [];
    for (const [i, input] of inputs.entries()) {
      if (!pending[i] || input.source !== 'reconcile') continue;
      const keyed = period === undefined ? `reconcile:${run.startedAt}` : `reconcile-filter:${period}`;
      events.push({
        eventKey: await sha256Hex(`${keyed}:${input.user.id}`),
        source: 'reconcile',
        eventType: 'User.Reconcile',
        subject: input.user.id,
        status: 'received',
        rawBody: JSON.stringify({ user: input.user, signUp: input.signUp, ...pass }),
        arrivedVia: 'sweep',
      });
    }
    return events;
  };
}

/** The cleanup's decision: users who never signed in (and, to suspend, are not suspended yet). */
export function cleanupDecider(options: { action: 'suspend' | 'delete'; dryRun: boolean }) {
  return async (users: User[]): Promise<NewEvent[]> => {
    const events: NewEvent[] = [];
    for (const user of users) {
      if (user.lastSignInAt !== null && user.lastSignInAt !== undefined) continue;
      if (options.action === 'suspend' && user.isSuspended) continue;
      const { action, dryRun } = options;
      events.push({
        eventKey: await sha256Hex(`cleanup:${action}:${dryRun}:${user.id}`),
        source: 'cleanup',
        eventType: `User.Cleanup.${action}`,
        subject: user.id,
        status: 'received',
        rawBody: JSON.stringify({ user, action, dryRun }),
        arrivedVia: 'sweep',
      });
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
  replayOrHold,
  settleCollected,
  tenantSizeFor,
} from './brakes';
export { DEFAULT_RECOVERY, type HookRecovery, type RecoveryOptions, recoverDeliveries } from './recovery';
