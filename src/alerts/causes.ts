import type { AlertKind, AlertRecord, Journal, RaisedAlert } from '../journal';

/**
 * What is wrong now, read from the journal: the causes an operator is alerted to. Each read is bounded; a read that
 * hit its bound cannot prove that a cause it did not return is gone, so such causes are checked one by one (a few
 * per run) before they are resolved.
 */

/** Events waiting longer than this count towards the backlog (the journal cron restarts a stuck one after 1 min). */
export const BACKLOG_AGE_MS = 5 * 60_000;
/** A recovery run older than this says nothing about now (its hook may no longer be read). */
export const RECOVERY_RELEVANT_MS = 24 * 60 * 60_000;

export const CAUSE_LIMITS = {
  failureGroups: 50,
  heldBatches: 100,
  recoveryHooks: 50,
  /** Open alerts a run looks at for resolution, and of those checked one by one. */
  open: 500,
  checks: 20,
};

type Reads = Pick<Journal, 'insights' | 'batches'>;

export interface Evaluation {
  raised: RaisedAlert[];
  /** Kinds whose read returned every present cause: an open alert of such a kind that was not raised is gone. */
  complete: Set<AlertKind>;
}

/**
 * Identifiers, codes and names go into messages only when they look like one: an event type or error code that a
 * custom handler or a sender made up could otherwise carry an email or a value.
 */
// No `/`: an event type from a signed callback must not become a URL in the receiver's client.
export const label = (value: string) => (/^[A-Za-z0-9_.:-]{1,120}$/.test(value) ? value : '(other)');

export const failureCause = (eventType: string, code: string) =>
  `failure:${JSON.stringify([eventType, code])}`;

/** Reads each cause (the backlog only with a threshold) as present at the time of the reads. */
export async function evaluate(
  journal: Reads,
  options: { at: number; backlogThreshold: number | null },
): Promise<Evaluation> {
  const { at, backlogThreshold } = options;
  const raised: RaisedAlert[] = [];
  // The backlog is counted, never truncated.
  const complete = new Set<AlertKind>(['backlog']);
  /** The rows of a read bounded by `limit`: fewer than that, and every present cause of `kind` was read. */
  const bounded = <T>(kind: AlertKind, limit: number, rows: T[]) => {
    if (rows.length < limit) complete.add(kind);
    return rows;
  };
  const raise = (kind: AlertKind, cause: string, data: Record<string, unknown>) =>
    raised.push({ cause, kind, data });

  const { failureGroups, recoveryHooks, heldBatches } = CAUSE_LIMITS;
  for (const group of bounded('failure', failureGroups, await journal.insights.failureCauses(failureGroups)))
    raise('failure', failureCause(group.eventType, group.code), {
      eventType: label(group.eventType),
      code: label(group.code),
      count: group.count,
      firstAt: group.firstAt,
      lastAt: group.lastAt,
      exampleEventKey: label(group.exampleKey),
    });

  for (const run of bounded('recovery', recoveryHooks, await journal.insights.recoveryRuns(recoveryHooks))) {
    if (run.recovered <= 0 || at - run.finishedAt > RECOVERY_RELEVANT_MS) continue;
    raise('recovery', `recovery:${run.hookId}`, {
      hookId: label(run.hookId),
      recovered: run.recovered,
      from: run.from,
      to: run.to,
      runAt: run.finishedAt,
    });
  }

  if (backlogThreshold !== null) {
    // Counted only up to a bound: the alert needs "above the threshold", the console has the exact figure.
    const cap = Math.min(backlogThreshold * 10, 10_000);
    const backlog = await journal.insights.backlog(at - BACKLOG_AGE_MS, cap);
    if (backlog.count > backlogThreshold)
      raise('backlog', 'backlog', {
        count: backlog.count,
        atLeast: backlog.count >= cap,
        threshold: backlogThreshold,
        olderThanMinutes: BACKLOG_AGE_MS / 60_000,
        oldestAt: backlog.oldestAt,
      });
  }

  const held = await journal.batches.list({ status: 'held', limit: heldBatches });
  for (const batch of bounded('batch', heldBatches, held))
    raise('batch', `batch:${batch.batchId}`, {
      batchId: label(batch.batchId),
      batchKind: batch.kind,
      items: batch.itemCount,
      heldSince: batch.createdAt,
    });
  return { raised, complete };
}

/** Whether the cause of an open alert is still present, asked of that cause alone (a truncated read missed it). */
async function stillPresent(journal: Reads, alert: AlertRecord): Promise<boolean> {
  if (alert.kind === 'failure') {
    const [eventType, code] = JSON.parse(alert.cause.slice('failure:'.length)) as [string, string];
    return (await journal.insights.failureGroupKeys(eventType, code, 1)).length > 0;
  }
  if (alert.kind === 'batch')
    return (await journal.batches.get(alert.cause.slice('batch:'.length)))?.status === 'held';
  return true;
}

/** The open alerts whose cause is gone: not raised, and either their kind was read completely or a check says so. */
export async function gone(journal: Reads, open: AlertRecord[], evaluation: Evaluation): Promise<string[]> {
  const raised = new Set(evaluation.raised.map((alert) => alert.cause));
  const causes: string[] = [];
  let checks = 0;
  for (const alert of open) {
    if (raised.has(alert.cause)) continue;
    if (evaluation.complete.has(alert.kind)) causes.push(alert.cause);
    else if (checks++ < CAUSE_LIMITS.checks && !(await stillPresent(journal, alert)))
      causes.push(alert.cause);
  }
  return causes;
}
