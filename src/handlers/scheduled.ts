import { runAlerts } from '../alerts';
import type { Pipeline, Services } from '../composition';
import { instanceIdOf, type JournalEntry, type NewEvent } from '../journal';
import { log } from '../log';
import { disposeStub, planFor } from '../pipeline';
import { inputOf } from '../sources';
import {
  cleanupDecider,
  DEFAULT_RECOVERY,
  type HookRecovery,
  reconcileDecider,
  recoverDeliveries,
  releaseBatch,
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
      plan: (input) => planFor(pipeline.automations, input, pipeline.dryRun),
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
  const { reconcile, cleanup } = pipeline.recipes;
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
    return parsed.ok ? planFor(pipeline.automations, parsed.input, pipeline.dryRun).map((p) => p.name) : [];
  };
  const brakes = pipeline.recipes.brakes;
  /** The applications rules name: the sweep plans a user as signed up through each (src/sweep reconcileDecider). */
  const applications = [...pipeline.recipes.rolesByRule, ...pipeline.recipes.organizationsByRule].flatMap(
    (rule) => rule.when.applications ?? [],
  );
  const scanDeps = () => ({
    journal: pipeline.journal,
    enqueue: pipeline.enqueue,
    logto: deps.services(env).logto,
    now,
  });
  if (cron === JOURNAL_SWEEP_CRON)
    report.journal = await guard('journal sweep', () => sweepJournal(env, pipeline, now));
  // Alerts (src/alerts) after the sweep, so they see its outcome; they never throw, the guard is a second net.
  if (cron === JOURNAL_SWEEP_CRON)
    await guard('alerts', () =>
      runAlerts(env, {
        journal: pipeline.journal,
        workerUrl: pipeline.config.recovery?.workerUrl,
        fetch: deps.fetch,
        now,
      }),
    );
  if (cron === RECOVERY_CRON && pipeline.config.recovery) {
    report.recovery = await guard('recovery', () => runRecovery(env, deps));
    if (report.recovery) log('info', 'cron.recovery', { hooks: report.recovery });
  }
  if (cron === RETENTION_CRON)
    report.retention = await guard('retention', () =>
      runRetention(pipeline.journal, retentionSettings(env), now()),
    );
  if (reconcile.enabled && cron === reconcile.cron) {
    report.reconcile = await guard('reconcile', () =>
      scanUsers(
        scanDeps(),
        {
          name: 'reconcile',
          lagMs: 0,
          initialLookbackMs: reconcile.initialLookbackMinutes * 60_000,
          overlapMs: reconcile.overlapMinutes * 60_000,
          maxPages: reconcile.maxPagesPerRun,
          // A dry run changes nothing: no brakes needed.
          brakes: pipeline.dryRun ? undefined : { kind: 'reconcile', settings: brakes, describe },
        },
        reconcileDecider(pipeline, deps.services(env).logto, { applications }),
      ),
    );
  }
  if (reconcile.enabled && cron === reconcile.cron && reconcile.filterEveryHours > 0) {
    report.filters = await guard('reconcile filters', async () => {
      const logto = deps.services(env).logto;
      const targets: { name: string; query: Record<string, string> }[] = [];
      const roleNames = new Set([
        ...pipeline.config.signupRoleNames,
        ...pipeline.recipes.rolesByRule.flatMap((rule) => rule.roles),
      ]);
      for (const roleName of roleNames) {
        const role = await logto.roles.findByName(roleName);
        // A missing role fails the runs that need it (with its code); there is nothing to filter by.
        if (role) targets.push({ name: `filter:role:${role.id}`, query: { excludeRoleId: role.id } });
      }
      for (const organizationId of new Set(
        pipeline.recipes.organizationsByRule.map((rule) => rule.organizationId),
      ))
        targets.push({
          name: `filter:organization:${organizationId}`,
          query: { excludeOrganizationId: organizationId },
        });
      const reports: ScanReport[] = [];
      for (const target of targets) {
        reports.push(
          await scanUsers(
            scanDeps(),
            {
              name: target.name,
              lagMs: 0,
              initialLookbackMs: 0,
              overlapMs: 0,
              maxPages: reconcile.maxPagesPerRun,
              filter: { query: target.query, everyMs: reconcile.filterEveryHours * 3_600_000 },
              brakes: pipeline.dryRun ? undefined : { kind: 'reconcile', settings: brakes, describe },
            },
            reconcileDecider(pipeline, logto, {
              filterPeriodMs: reconcile.filterEveryHours * 3_600_000,
              applications,
            }),
          ),
        );
      }
      return reports;
    });
  }
  if (cleanup?.enabled && cron === cleanup.cron) {
    report.cleanup = await guard('cleanup', () =>
      scanUsers(
        scanDeps(),
        {
          name: `cleanup-${cleanup.action}${cleanup.dryRun ? '-dry-run' : ''}`,
          lagMs: cleanup.neverSignedInDays * 86_400_000,
          // The first cleanup looks at every user old enough; later ones at users who became old enough since.
          initialLookbackMs: 10 * 365 * 86_400_000,
          overlapMs: 0,
          maxPages: cleanup.maxPagesPerRun,
          brakes:
            cleanup.dryRun || pipeline.dryRun ? undefined : { kind: 'cleanup', settings: brakes, describe },
        },
        cleanupDecider({ action: cleanup.action, dryRun: cleanup.dryRun }),
      ),
    );
  }
  if (report.reconcile) log('info', 'cron.reconcile', { ...report.reconcile });
  if (report.cleanup) log('info', 'cron.cleanup', { ...report.cleanup });
  for (const scan of report.filters ?? []) if (!scan.skipped) log('info', 'cron.reconcile', { ...scan });
  return report;
}
