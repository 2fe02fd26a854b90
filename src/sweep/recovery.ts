import type { AutomationInput } from '../automations';
import type { Journal, NewEvent } from '../journal';
import { type LogtoClient, MAX_PAGE_SIZE } from '../logto-client';
import type { Enqueue, PlannedAutomation } from '../pipeline';
import { type HookLogEntry, recoveredRecord } from '../sources';
import { CRON_GOVERNOR_WAIT_MS, pagedRun, savedState, totalOf } from './paged-run';

interface Hook {
  id: string;
  config?: { url?: string };
}

export interface RecoveryOptions {
  /** The hooks to read; empty: those whose endpoint is `<workerUrl>/webhooks/logto`. */
  hookIds: readonly string[];
  workerUrl?: string;
  /** First run for a hook: entries this far back (Logto's default window is 24 h). */
  initialLookbackMs: number;
  /** Each run re-reads this much before the cursor (clock skew between Logto and the Worker; late log writes). */
  overlapMs: number;
  /** Pages (of 100 entries) per hook and run; the next run resumes. */
  maxPages: number;
}

export const DEFAULT_RECOVERY: Omit<RecoveryOptions, 'hookIds' | 'workerUrl'> = {
  initialLookbackMs: 24 * 60 * 60_000,
  overlapMs: 5 * 60_000,
  maxPages: 20,
};

export interface HookRecovery {
  hookId: string;
  pages: number;
  /** Entries read, and of those the deliveries that failed. */
  entries: number;
  failedDeliveries: number;
  /** Failed deliveries journaled now (the others were journaled already: a live copy, or an earlier run). */
  recovered: number;
  /** Failed deliveries whose body is not a valid Logto event (kept out of the journal). */
  invalid: number;
  /** True when the run reached the end of the window; false when it stopped at `maxPages` (it resumes). */
  finished: boolean;
}

export interface RecoveryDeps {
  journal: Pick<Journal, 'scans'>;
  enqueue: Pick<Enqueue, 'recordAndStart'>;
  logto: Pick<LogtoClient, 'request'>;
  plan: (input: AutomationInput) => PlannedAutomation[];
  now: () => number;
}

/** The hooks to read: the configured IDs, or those pointing at this Worker's webhook route. */
async function hooksToRead(deps: RecoveryDeps, options: RecoveryOptions): Promise<string[]> {
  if (options.hookIds.length > 0) return [...options.hookIds];
  if (!options.workerUrl) return [];
  const target = `${options.workerUrl}/webhooks/logto`;
  const { data } = await deps.logto.request<Hook[]>('GET', '/hooks', {
    governorWaitMs: CRON_GOVERNOR_WAIT_MS,
  });
  return data.filter((hook) => hook.config?.url?.replace(/\/+$/, '') === target).map((hook) => hook.id);
}

/**
 * Reads one hook's log from its cursor and journals every delivery that did not succeed (refused, timed out,
 * non-2xx) from the body Logto kept, through the same path as a live delivery (validation, planner, canonical key —
 * so a late live copy, or an event recovered before, is a duplicate). The window is fixed when a run starts
 * (`start_time` = cursor − overlap, `end_time` = then), so its pages are stable; progress is saved after each
 * recorded page and the cursor moves only when the run reached the end of the window.
 */
async function recoverHook(
  deps: RecoveryDeps,
  options: RecoveryOptions,
  hookId: string,
): Promise<HookRecovery> {
  const store = deps.journal.scans;
  const now = deps.now();
  const state = await savedState(store, `recovery:${hookId}`, now - options.initialLookbackMs);
  const upper = state.runUpper ?? now;
  const lower = state.cursor - options.overlapMs;
  const report: HookRecovery = {
    hookId,
    pages: 0,
    entries: 0,
    failedDeliveries: 0,
    recovered: 0,
    invalid: 0,
    finished: false,
  };
  const read = async (query: URLSearchParams, page: number) => {
    const { data, headers } = await deps.logto.request<HookLogEntry[]>(
      'GET',
      `/hooks/${encodeURIComponent(hookId)}/recent-logs`,
      { query, governorWaitMs: CRON_GOVERNOR_WAIT_MS },
    );
    report.entries += data.length;
    // The failed deliveries' records (invalid bodies counted, not recorded).
    const events: NewEvent[] = [];
    for (const entry of data) {
      const record = await recoveredRecord(entry, deps.plan);
      if (record === 'delivered') continue;
      report.failedDeliveries++;
      if (record === 'invalid') report.invalid++;
      else events.push(record);
    }
    const recorded = await deps.enqueue.recordAndStart(events);
    report.recovered += recorded.length;
    state.scanned += data.length;
    state.queued += recorded.length;
    // The last page: short, or (Total-Number) nothing beyond it — no empty page fetched to learn that.
    const total = totalOf(headers);
    return data.length < MAX_PAGE_SIZE || (total !== null && page * MAX_PAGE_SIZE >= total);
  };
  await pagedRun(
    store,
    state,
    report,
    {
      startedAt: now,
      upper,
      params: { start_time: String(lower), end_time: String(upper) },
      maxPages: options.maxPages,
      reread: false,
      now: deps.now,
    },
    read,
    () => ({
      from: lower,
      to: upper,
      read: state.scanned,
      recovered: state.queued,
    }),
  );
  return report;
}

/**
 * Recovery from Logto's hook log: for every hook this Worker receives (configured IDs, or found by its endpoint),
 * journal the deliveries Logto tried and that failed. Logto keeps each attempt with its whole body, so what never
 * reached the Worker — it was down, mis-deployed, its key rotated wrongly, it answered 5xx — is recovered exactly,
 * not guessed. Every page is one Management API call through the rate governor.
 */
export async function recoverDeliveries(
  deps: RecoveryDeps,
  options: RecoveryOptions,
): Promise<HookRecovery[]> {
  const reports: HookRecovery[] = [];
  for (const hookId of await hooksToRead(deps, options))
    reports.push(await recoverHook(deps, options, hookId));
  return reports;
}
