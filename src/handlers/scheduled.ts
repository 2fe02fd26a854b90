import { instanceIdOf } from '../journal';
import { startRuns } from '../pipeline/starter';
import type { Pipeline, Services } from '../services';
import { cleanupDecider, reconcileDecider, type ScanReport, scanUsers } from '../sweep';

/** The journal's own sweep runs on this cron (wrangler.toml `[triggers] crons`). */
export const JOURNAL_SWEEP_CRON = '* * * * *';

/** An event still `received` this long after it was recorded has no run: start it. */
export const RESTART_AFTER_MS = 60_000;
/** A `running` event untouched this long is checked against its Workflow instance. */
export const STALE_RUNNING_MS = 30 * 60_000;
const SWEEP_LIMIT = 500;

export interface SweepReport {
  restarted: number;
  checked: number;
  failedRuns: number;
}

/**
 * The cron sweep that makes "no event stays unstarted" true: (re)starts runs of events still `received` after a
 * minute (the `waitUntil` start was lost), and marks `failed` a `running` event whose Workflow instance ended in
 * error or was terminated (so it shows up for replay instead of looking busy forever).
 */
export async function sweepJournal(env: Env, pipeline: Pipeline, now: () => number): Promise<SweepReport> {
  const { journal } = pipeline;
  const unstarted = await journal.listUnstarted(now() - RESTART_AFTER_MS, SWEEP_LIMIT);
  const restarted = await startRuns(env.EVENT_WORKFLOW, unstarted);
  if (unstarted.length > 0)
    console.log(`cron: ${unstarted.length} unstarted event(s), ${restarted} run(s) created`);

  const stale = await journal.listStale(now() - STALE_RUNNING_MS, 50);
  let failedRuns = 0;
  for (const entry of stale) {
    let status: InstanceStatus['status'] | 'missing';
    try {
      status = (await (await env.EVENT_WORKFLOW.get(instanceIdOf(entry))).status()).status;
    } catch {
      status = 'missing';
    }
    if (status === 'errored' || status === 'terminated' || status === 'missing') {
      await journal.markFailed(entry.eventKey, {
        code: `run_${status}`,
        message: `the Workflow instance ${instanceIdOf(entry)} is ${status}; replay the event`,
      });
      failedRuns++;
    }
  }
  return { restarted, checked: stale.length, failedRuns };
}

export interface ScheduledReport {
  journal?: SweepReport;
  reconcile?: ScanReport;
  cleanup?: ScanReport;
  errors: string[];
}

/**
 * One cron invocation: the journal sweep on `* * * * *`, the reconciliation sweep and the cleanup on the crons
 * automations.config.ts names (each must also be in wrangler.toml). Errors are logged by name, never with secrets.
 */
export async function runScheduled(
  cron: string,
  env: Env,
  deps: { pipeline: Pipeline; services: (env: Env) => Services; now: () => number },
): Promise<ScheduledReport> {
  const { pipeline, now } = deps;
  const { reconcile, cleanup } = pipeline.recipes;
  const report: ScheduledReport = { errors: [] };
  const guard = async <T>(name: string, job: () => Promise<T>) => {
    try {
      return await job();
    } catch (error) {
      const message = `${name}: ${error instanceof Error ? error.message : 'failed'}`;
      console.error(`cron ${message}`);
      report.errors.push(message);
      return undefined;
    }
  };
  const scanDeps = () => ({
    db: env.JOURNAL,
    journal: pipeline.journal,
    logto: deps.services(env).logto,
    workflow: env.EVENT_WORKFLOW,
    now,
  });
  if (cron === JOURNAL_SWEEP_CRON)
    report.journal = await guard('journal sweep', () => sweepJournal(env, pipeline, now));
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
        },
        reconcileDecider(pipeline),
      ),
    );
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
        },
        cleanupDecider({ action: cleanup.action, dryRun: cleanup.dryRun }),
      ),
    );
  }
  if (report.reconcile) console.log(`cron reconcile: ${JSON.stringify(report.reconcile)}`);
  if (report.cleanup) console.log(`cron cleanup: ${JSON.stringify(report.cleanup)}`);
  return report;
}
