import { type AlertConfig, parseAlertConfig } from '../config';
import type { AlertPhase, Journal } from '../journal';
import { errorName, log } from '../log';
import { CAUSE_LIMITS, evaluate, gone } from './causes';
import { noticeOf, SEND_TIMEOUT_MS, send } from './notify';

/** Notices one run sends at most; the rest wait for the next minute. */
export const MAX_NOTICES_PER_RUN = 10;
/**
 * A sender's claim on a notice: longer than a send may take, so no second sender starts while the first may still
 * deliver; a claim whose run died lapses then and the notice is retried.
 */
export const NOTICE_LEASE_MS = SEND_TIMEOUT_MS + 55_000;
/** Incidents resolved (and told) this long ago are forgotten. */
export const KEEP_RESOLVED_MS = 30 * 86_400_000;

export interface AlertDeps {
  journal: Pick<Journal, 'alerts' | 'insights' | 'batches'>;
  /** WORKER_URL (validated by the pipeline configuration): notices link to the console. */
  workerUrl?: string;
  fetch?: typeof fetch;
  now: () => number;
  timeoutMs?: number;
}

/** Sends the notices that are due, each claimed first (one conditional write) so no two runs send it. */
async function sendDue(deps: AlertDeps, config: AlertConfig): Promise<void> {
  const { alerts } = deps.journal;
  for (const alert of await alerts.due(MAX_NOTICES_PER_RUN)) {
    const phase: AlertPhase = alert.state === 'open' ? 'opened' : 'resolved';
    const leaseUntil = deps.now() + NOTICE_LEASE_MS;
    if (!(await alerts.claim(alert.cause, alert.openedAt, phase, leaseUntil))) continue;
    const notice = await noticeOf(alert, phase, deps.workerUrl);
    const outcome = await send(notice, config, {
      // Called unbound, the global fetch throws "Illegal invocation" in workerd: wrap it.
      fetch: deps.fetch ?? ((input, init) => fetch(input, init)),
      now: deps.now,
      timeoutMs: deps.timeoutMs,
    });
    const fields = { alertId: notice.id, kind: alert.kind, phase, attempt: alert.attempts + 1 };
    if (outcome.ok) {
      await alerts.sent(alert.cause, alert.openedAt, phase);
      log('info', 'alert.sent', { ...fields, status: outcome.status });
    } else {
      await alerts.failed(alert.cause, alert.openedAt, leaseUntil, outcome.code);
      log('warn', 'alert.failed', { ...fields, code: outcome.code });
      // The receiver is down or refusing: the rest wait for the next run rather than each waiting for a timeout.
      return;
    }
  }
}

/**
 * One alert run (the minute cron): reads what is wrong, records causes that appeared and resolves those that are
 * gone (conditional writes: several runs at once open and resolve each cause once), then sends the due notices.
 * Never throws: a bad setting turns alerts off and is logged by name; any other failure is logged and the next
 * run carries on from the table.
 */
export async function runAlerts(env: object, deps: AlertDeps): Promise<void> {
  const parsed = parseAlertConfig(env);
  if (!parsed.ok) {
    log('error', 'alert.disabled', { variable: parsed.variable, reason: parsed.reason });
    return;
  }
  const config = parsed.config;
  if (!config) return;
  try {
    const { journal } = deps;
    const at = deps.now();
    const evaluation = await evaluate(journal, { at, backlogThreshold: config.backlogThreshold });
    await journal.alerts.raise(evaluation.raised, at);
    const open = await journal.alerts.listOpen(undefined, CAUSE_LIMITS.open);
    await journal.alerts.resolve(await gone(journal, open, evaluation), at);
    await sendDue(deps, config);
    await journal.alerts.prune(at - KEEP_RESOLVED_MS, 100);
  } catch (error) {
    log('error', 'alert.error', { error: errorName(error) });
  }
}
