import { runAlerts } from '../alerts';
import type { Pipeline, Services } from '../composition';
import { type BatchKind, instanceIdOf, type JournalEntry, type NewEvent } from '../journal';
import { log } from '../log';
import { disposeStub } from '../pipeline';
import { inputOf } from '../sources';
import {
  cleanupDecider,
  DEFAULT_RECOVERY,
  type HookRecovery,
  reconcileDecider,
  recoverDeliveries,
  releaseBatch,
  type ScanOptions,
  type ScanReport,
  scanUsers,
} from '../sweep';
import { RETENTION_CRON, type RetentionReport, retentionSettings, runRetention } from './retention';

/** The journal's own sweep runs on this cron (wrangler.toml `[triggers] crons`). */
export const JOURNAL_SWEEP_CRON = '* * * * *';

/** An event still `received` this long after it was recorded has no run: start it. */
export const RESTART_AFTER_MS = 60_000;
/** A `running` event untouched this long is checked against its Workflow instance. */
export const STALE_RUNNING_MS = 30 * 60_000;
const SWEEP_LIMIT = 500;

export interface SweepReport {
  /** Events still `received` a minute after they were recorded (the run starter was woken for them). */
  restarted: number;
  checked: number;
  failedRuns: number;
  /** Events re-opened because the event that covered them failed for good. */
  reopened: number;
  /** Items of approved held batches journaled or re-opened (the rest of a large batch continues next minute). */
  released: number;
}

/** What the Workflow engine says of an event's run: its status, `missing` only when the engine says so. */
async function runStatus(
  workflow: Workflow,
  entry: JournalEntry,
): Promise<InstanceStatus['status'] | 'missing' | 'unknown'> {
  try {
    const instance = await workflow.get(instanceIdOf(entry));
    try {
      return (await instance.status()).status;
    } finally {
      disposeStub(instance);
    }
  } catch (error) {
    // Only the engine's own "no such instance" is proof; anything else (a network blip) proves nothing.
    return error instanceof Error && /not.?found/i.test(error.message) ? 'missing' : 'unknown';
  }
}

/**
 * The cron sweep that makes "no event stays unstarted, none stuck, none left covered by a failure" true:
 * (re)starts runs of events still `received` after a minute (their hand-over was lost); marks `failed` a `running`
 * event whose Workflow instance ended in error, was terminated or does not exist — only if its row did not change
 * meanwhile (a live run wins); and re-opens the events covered by an event that has failed for good, so they run and
 * take its actions over.
 */
export async function sweepJournal(env: Env, pipeline: Pipeline, now: () => number): Promise<SweepReport> {
  const { journal, enqueue } = pipeline;
  const unstarted = await journal.events.listOlder(
    'received',
    'received_at',
    now() - RESTART_AFTER_MS,
    SWEEP_LIMIT,
  );
  if (unstarted.length > 0) {
    // The starter starts them (and restarts those started a minute ago whose run never began).
    await enqueue.start({ immediate: true, restart: true });
    log('warn', 'cron.restart', { events: unstarted.length, reason: 'still received after a minute' });
  }

  const stale = await journal.events.listOlder('running', 'updated_at', now() - STALE_RUNNING_MS, 50);
  let failedRuns = 0;
  for (const entry of stale) {
    const status = await runStatus(env.EVENT_WORKFLOW, entry);
    if (status !== 'errored' && status !== 'terminated' && status !== 'missing') continue;
    const failed = await journal.events.failIfUnchanged(entry.eventKey, entry.updatedAt, {
      code: `run_${status}`,
      message: `the Workflow instance ${instanceIdOf(entry)} is ${status}; replay the event`,
    });
    if (failed) failedRuns++;
  }

  const covered = await journal.actions.coveredByFailed(SWEEP_LIMIT);
  const { reopened } = await enqueue.reopen(covered, ['covered', 'done']);
  if (reopened.length > 0)
    log('info', 'cron.reopen', { events: reopened.length, reason: 'the event covering them failed' });

  // Approved held batches (brakes) are released in bounded chunks: the approval released the first one.
  let released = 0;
  for (const batch of await journal.batches.list({ status: 'approved', limit: 5 }))
    released += (await releaseBatch({ journal, enqueue }, batch)).released;
  return {
    restarted: unstarted.length,
    checked: stale.length,
    failedRuns,
    reopened: reopened.length,
    released,
  };
}

export interface ScheduledReport {
  journal?: SweepReport;
  reconcile?: ScanReport;
  /** The reconciliation's filter scans (one per role or organization a rule or SIGNUP_ROLE_NAMES names). */
  filters?: ScanReport[];
  cleanup?: ScanReport;
  recovery?: HookRecovery[];
  retention?: RetentionReport;
  errors: string[];
}

/** Recovery from Logto's hook log runs on this cron (wrangler.toml `[triggers] crons`). */
export const RECOVERY_CRON = '*/5 * * * *';

/**
 * Reads Logto's hook log of every hook this Worker receives and journals the deliveries that failed (see
 * src/sweep/recovery.ts). Undefined when recovery is not configured (LOGTO_HOOK_IDS or WORKER_URL).
 */
export async function runRecovery(
  env: Env,
  deps: { pipeline: Pipeline; services: (env: Env) => Services; now: () => number },
): Promise<HookRecovery[] | undefined> {
  const { pipeline } = deps;
  const settings = pipeline.config.recovery;
  if (!settings) return undefined;
  return recoverDeliveries(
    {
      journal: pipeline.journal,
      enqueue: pipeline.enqueue,
      logto: deps.services(env).logto,
      plan: pipeline.plan,
      now: deps.now,
    },
    { ...DEFAULT_RECOVERY, ...settings },
  );
}

/**
 * One cron invocation: the journal sweep on `* * * * *`, the reconciliation sweep and the cleanup on the crons
 * automations.config.ts names (each must also be in wrangler.toml). Errors are logged by name, never with secrets.
 */
export async function runScheduled(
  cron: string,
  env: Env,
  deps: { pipeline: Pipeline; services: (env: Env) => Services; now: () => number; fetch?: typeof fetch },
): Promise<ScheduledReport> {
  const { pipeline, now } = deps;
  const { reconcile, cleanup, rolesByRule, organizationsByRule } = pipeline.recipes;
  const report: ScheduledReport = { errors: [] };
  const guard = async <T>(name: string, job: () => Promise<T>) => {
    try {
      return await job();
    } catch (error) {
      const message = `${name}: ${error instanceof Error ? error.message : 'failed'}`;
      log('error', 'cron.failed', { job: name, message });
      report.errors.push(message);
      return undefined;
    }
  };
  /** What a held candidate would run (the preview of a held batch). */
  const describe = (event: NewEvent) => {
    const parsed = inputOf({ ...event, externalId: null, receivedAt: now() });
    return parsed.ok ? pipeline.plan(parsed.input).map((p) => p.name) : [];
  };
  /** A user scan, with the brakes of `kind` (none without one, or in a dry run: it changes nothing). */
  const scan = (
    options: Omit<ScanOptions, 'brakes'>,
    decide: Parameters<typeof scanUsers>[2],
    kind: BatchKind | undefined,
  ) =>
    scanUsers(
      { journal: pipeline.journal, enqueue: pipeline.enqueue, logto: deps.services(env).logto, now },
      {
        ...options,
        brakes: kind && !pipeline.dryRun ? { kind, settings: pipeline.recipes.brakes, describe } : undefined,
      },
      decide,
    );
  if (cron === JOURNAL_SWEEP_CRON) {
    report.journal = await guard('journal sweep', () => sweepJournal(env, pipeline, now));
    // Alerts (src/alerts) after the sweep, so they see its outcome; they never throw, the guard is a second net.
    await guard('alerts', () =>
      runAlerts(env, {
        journal: pipeline.journal,
        workerUrl: pipeline.config.recovery?.workerUrl,
        fetch: deps.fetch,
        now,
      }),
    );
  }
  if (cron === RECOVERY_CRON) {
    // Undefined when recovery is not configured.
    report.recovery = await guard('recovery', () => runRecovery(env, deps));
    if (report.recovery) log('info', 'cron.recovery', { hooks: report.recovery });
  }
  if (cron === RETENTION_CRON)
    report.retention = await guard('retention', () =>
      runRetention(pipeline.journal, retentionSettings(env), now()),
    );
  if (reconcile.enabled && cron === reconcile.cron) {
    /** The applications rules name: the sweep plans a user as signed up through each (src/sweep reconcileDecider). */
    const applications = [...rolesByRule, ...organizationsByRule].flatMap(
      (rule) => rule.when.applications ?? [],
    );
    /** A reconciliation scan: the cursor scan, or with `filter` a filter scan (its decider keyed by period). */
    const reconcileScan = (
      options: Pick<ScanOptions, 'name' | 'initialLookbackMs' | 'overlapMs' | 'filter'>,
    ) =>
      scan(
        { lagMs: 0, maxPages: reconcile.maxPagesPerRun, ...options },
        reconcileDecider(pipeline, deps.services(env).logto, {
          filterPeriodMs: options.filter?.everyMs,
          applications,
        }),
        'reconcile',
      );
    report.reconcile = await guard('reconcile', () =>
      reconcileScan({
        name: 'reconcile',
        initialLookbackMs: reconcile.initialLookbackMinutes * 60_000,
        overlapMs: reconcile.overlapMinutes * 60_000,
      }),
    );
    const everyMs = reconcile.filterEveryHours * 3_600_000;
    if (everyMs > 0)
      report.filters = await guard('reconcile filters', async () => {
        const targets: [name: string, query: Record<string, string>][] = [];
        for (const roleName of new Set([
          ...pipeline.config.signupRoleNames,
          ...rolesByRule.flatMap((rule) => rule.roles),
        ])) {
          const role = await deps.services(env).logto.roles.findByName(roleName);
          // A missing role fails the runs that need it (with its code); there is nothing to filter by.
          if (role) targets.push([`filter:role:${role.id}`, { excludeRoleId: role.id }]);
        }
        for (const organizationId of new Set(organizationsByRule.map((rule) => rule.organizationId)))
          targets.push([`filter:organization:${organizationId}`, { excludeOrganizationId: organizationId }]);
        const reports: ScanReport[] = [];
        for (const [name, query] of targets)
          reports.push(
            await reconcileScan({ name, initialLookbackMs: 0, overlapMs: 0, filter: { query, everyMs } }),
          );
        return reports;
      });
  }
  if (cleanup?.enabled && cron === cleanup.cron) {
    report.cleanup = await guard('cleanup', () =>
      scan(
        {
          name: `cleanup-${cleanup.action}${cleanup.dryRun ? '-dry-run' : ''}`,
          lagMs: cleanup.neverSignedInDays * 86_400_000,
          // The first cleanup looks at every user old enough; later ones at users who became old enough since.
          initialLookbackMs: 10 * 365 * 86_400_000,
          overlapMs: 0,
          maxPages: cleanup.maxPagesPerRun,
        },
        cleanupDecider({ action: cleanup.action, dryRun: cleanup.dryRun }),
        // A cleanup dry run changes nothing either.
        cleanup.dryRun ? undefined : 'cleanup',
      ),
    );
  }
  if (report.reconcile) log('info', 'cron.reconcile', { ...report.reconcile });
  if (report.cleanup) log('info', 'cron.cleanup', { ...report.cleanup });
  for (const scan of report.filters ?? []) if (!scan.skipped) log('info', 'cron.reconcile', { ...scan });
  return report;
}
