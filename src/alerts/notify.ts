import type { AlertConfig } from '../config';
import { sha256Hex } from '../hash';
import type { AlertKind, AlertPhase, AlertRecord } from '../journal';
import { signStandardWebhook } from '../webhook-signature';

/**
 * One notice to the alert receiver: its words, and how it travels — Slack-compatible `{"text": …}`, or, with
 * ALERT_WEBHOOK_SECRET, Standard-Webhooks-signed JSON. A notice holds identifiers, counts, codes, times and links
 * to the console: never a payload, an email, an error message or a secret.
 */

/** One attempt; a receiver that does not answer within it is retried by the next run. */
export const SEND_TIMEOUT_MS = 5_000;

export interface Notice {
  /** `webhook-id`: the same for every attempt at this notice, so a receiver can drop a repeat. */
  id: string;
  /** Shared by an incident's open and resolved notices. */
  incident: string;
  phase: AlertPhase;
  kind: AlertKind;
  text: string;
  link?: string;
  data: Record<string, unknown>;
}

const iso = (ms: unknown) => (Number.isFinite(ms) ? new Date(ms as number).toISOString() : '?');
const plural = (n: unknown, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The console page that shows the cause (with WORKER_URL), else none. */
function linkOf(alert: AlertRecord, workerUrl: string | undefined): string | undefined {
  if (!workerUrl) return undefined;
  if (alert.kind === 'failure') return `${workerUrl}/console/failures`;
  if (alert.kind === 'batch')
    return `${workerUrl}/console/batches/${encodeURIComponent(String(alert.data.batchId))}`;
  return `${workerUrl}/console/health`;
}

/** Each kind's sentence: when its cause appears, and when it is gone. */
const SENTENCES: Record<AlertKind, (d: Record<string, unknown>) => [opened: string, resolved: string]> = {
  failure: (d) => [
    `${plural(d.count, 'event')} failed for good: ${d.eventType}, code ${d.code} (first ${iso(d.firstAt)}, ` +
      `last ${iso(d.lastAt)}; e.g. event ${d.exampleEventKey}). Replay them once the cause is fixed.`,
    `No failed ${d.eventType} events with code ${d.code} remain (replayed or fixed).`,
  ],
  recovery: (d) => [
    `Logto could not deliver ${plural(d.recovered, 'webhook')} to the Worker (hook ${d.hookId}, ` +
      `${iso(d.from)} to ${iso(d.to)}); recovered from Logto's hook log.`,
    `The latest recovery run of hook ${d.hookId} found no undelivered webhooks.`,
  ],
  backlog: (d) => [
    `${d.atLeast ? 'At least ' : ''}${plural(d.count, 'event')} received or running for more than ` +
      `${d.olderThanMinutes} minutes (threshold ${d.threshold}; oldest since ${iso(d.oldestAt)}).`,
    `The backlog is back under ${d.threshold} events waiting more than ${d.olderThanMinutes} minutes.`,
  ],
  batch: (d) => [
    `A held ${d.batchKind} batch waits for an operator: ${d.batchId}, ${plural(d.items, 'item')} ` +
      `(held since ${iso(d.heldSince)}). Approve or discard it.`,
    `Held batch ${d.batchId} is no longer waiting (approved or discarded).`,
  ],
};

export async function noticeOf(
  alert: AlertRecord,
  phase: AlertPhase,
  workerUrl: string | undefined,
): Promise<Notice> {
  const incident = `alert_${(await sha256Hex(`${alert.cause}\n${alert.openedAt}`)).slice(0, 32)}`;
  const link = linkOf(alert, workerUrl);
  const opened = phase === 'opened';
  const sentence = SENTENCES[alert.kind](alert.data)[opened ? 0 : 1];
  const text = `logto-automations ${opened ? 'alert' : 'resolved'}: ${sentence}${link ? ` ${link}` : ''}`;
  return { id: `${incident}_${phase}`, incident, phase, kind: alert.kind, text, link, data: alert.data };
}

/** The request a notice becomes: its body and headers (signed when the configuration has a secret). */
export async function requestOf(
  notice: Notice,
  config: Pick<AlertConfig, 'secret'>,
  nowMs: number,
): Promise<{ body: string; headers: Record<string, string> }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (!config.secret) return { body: JSON.stringify({ text: notice.text }), headers };
  const body = JSON.stringify({
    type: `alert.${notice.phase}`,
    timestamp: iso(nowMs),
    data: {
      incident: notice.incident,
      kind: notice.kind,
      text: notice.text,
      link: notice.link, // JSON leaves it out when there is none
      ...notice.data,
    },
  });
  const timestamp = String(Math.floor(nowMs / 1000));
  const signature = await signStandardWebhook(body, { id: notice.id, timestamp }, config.secret);
  return {
    body,
    headers: {
      ...headers,
      'webhook-id': notice.id,
      'webhook-timestamp': timestamp,
      'webhook-signature': signature,
    },
  };
}

export type SendOutcome = { ok: true; status: number } | { ok: false; code: string };

/**
 * POSTs a notice with a timeout; any answer but 2xx, a timeout or a network error is a failure (never thrown).
 * Redirects are not followed: the receiver is the URL configured, nothing else.
 */
export async function send(
  notice: Notice,
  config: Pick<AlertConfig, 'url' | 'secret'>,
  deps: { fetch: typeof fetch; now: () => number; timeoutMs?: number },
): Promise<SendOutcome> {
  const timeoutMs = deps.timeoutMs ?? SEND_TIMEOUT_MS;
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | null = null;
  try {
    const { body, headers } = await requestOf(notice, config, deps.now());
    // Raced as well as aborted (an injected fetch may ignore the signal); either way the catch tells a timeout.
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new Error('timeout'));
      }, timeoutMs);
    });
    const answer = await Promise.race([
      deps.fetch(config.url, {
        method: 'POST',
        headers,
        body,
        redirect: 'manual',
        signal: controller.signal,
      }),
      timeout,
    ]);
    await answer.body?.cancel().catch(() => {});
    return answer.ok ? { ok: true, status: answer.status } : { ok: false, code: `http_${answer.status}` };
  } catch {
    return { ok: false, code: controller.signal.aborted ? 'timeout' : 'network' };
  } finally {
    clearTimeout(timer);
  }
}
