import { type ConfigFailure, check, configResult, integer, secureUrl, text } from '.';

/**
 * Alert settings (docs/operations.md, "Alerts"). Validated apart from the pipeline configuration on purpose, like
 * retention: a typo here must turn the alerts off (and say which variable), never stop the webhook ingress. A bad
 * value yields a Result naming the variable, never its value (the URL of a Slack webhook is itself a credential).
 */

export interface AlertConfig {
  /** Where notices are POSTed. */
  url: string;
  /**
   * ALERT_WEBHOOK_SECRET (`whsec_<base64>`): notices are Standard-Webhooks-signed JSON. Absent: Slack-compatible
   * `{"text": …}`.
   */
  secret?: string;
  /** Events waiting (received or running) longer than a few minutes above this many: an alert; null: never. */
  backlogThreshold: number | null;
}

/** `config` null: alerts are off (no ALERT_WEBHOOK_URL). */
export type AlertConfigResult = { ok: true; config: AlertConfig | null } | ConfigFailure;

export const DEFAULT_ALERT_BACKLOG_THRESHOLD = 100;
/** Standard Webhooks asks for 24–64 random bytes; fewer is a guessable key. */
const MIN_SECRET_BYTES = 24;

function secretBytes(raw: string): number {
  const encoded = raw.slice('whsec_'.length);
  if (!raw.startsWith('whsec_') || !/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) return 0;
  try {
    return atob(encoded).length;
  } catch {
    return 0;
  }
}

/** Reads ALERT_WEBHOOK_URL (empty: off), ALERT_WEBHOOK_SECRET (a secret) and ALERT_BACKLOG_THRESHOLD (default 100). */
export function parseAlertConfig(env: object): AlertConfigResult {
  return configResult(() => {
    const url = text(env, 'ALERT_WEBHOOK_URL');
    if (!url) return null;
    // https, or http to this machine only (a local receiver); no credentials in the URL's user part.
    const parsed = secureUrl(url);
    check(
      parsed && !parsed.username && !parsed.password,
      'ALERT_WEBHOOK_URL',
      'must be an https:// URL (http:// only for localhost or 127.0.0.1)',
    );
    const secret = text(env, 'ALERT_WEBHOOK_SECRET');
    check(
      !secret || secretBytes(secret) >= MIN_SECRET_BYTES,
      'ALERT_WEBHOOK_SECRET',
      `must be whsec_<base64> of at least ${MIN_SECRET_BYTES} bytes`,
    );
    const threshold = integer(
      env,
      'ALERT_BACKLOG_THRESHOLD',
      DEFAULT_ALERT_BACKLOG_THRESHOLD,
      1,
      1_000_000,
      'events',
      /^off$/i,
    );
    return { url, ...(secret ? { secret } : {}), backlogThreshold: threshold };
  });
}
