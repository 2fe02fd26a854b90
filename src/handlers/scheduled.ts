import { instanceIdOf } from '../journal';
import { startRuns } from '../pipeline/starter';
import type { Pipeline } from '../services';

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
