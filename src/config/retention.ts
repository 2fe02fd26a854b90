import { parseInteger, text } from '.';

/**
 * Journal retention settings (docs/journal.md, "What is stored and for how long"). Validated apart from the pipeline
 * configuration on purpose: a typo here must stop the pruning (nothing is forgotten), never the webhook ingress (a
 * 503 to a sender that does not retry loses events). A bad value yields a Result naming the variable.
 */

export interface RetentionConfig {
  /** Days after an event ended well before its body, result and error message are redacted; null: never. */
  redactAfterDays: number | null;
  /** Days after an event ended well before its row is deleted; null: never. */
  deleteAfterDays: number | null;
}

export type RetentionConfigResult =
  | { ok: true; config: RetentionConfig }
  | { ok: false; variable: string; reason: string };

export const DEFAULT_REDACT_AFTER_DAYS = 30;
export const DEFAULT_DELETE_AFTER_DAYS = 90;
/**
 * Workflows keeps a finished instance up to 30 days (its ID included): a row deleted sooner could be journaled again
 * under the same key and get the same instance ID `evt-<key>`, which the engine would not start again. Stripe also
 * lets an event be resent for up to 30 days.
 */
export const MIN_DELETE_AFTER_DAYS = 31;
const MAX_DAYS = 3650;

/** '' → the default; '0' or 'off' → null (never); else whole days in [min, MAX_DAYS], undefined when not. */
function days(raw: string, fallback: number, min: number): number | null | undefined {
  if (/^(0+|off)$/i.test(raw)) return null;
  return parseInteger(raw, fallback, min, MAX_DAYS);
}

const fail = (variable: string, reason: string): RetentionConfigResult => ({ ok: false, variable, reason });

/** Reads JOURNAL_REDACT_AFTER_DAYS (default 30) and JOURNAL_DELETE_AFTER_DAYS (default 90). */
export function parseRetentionConfig(env: object): RetentionConfigResult {
  const redact = days(text(env, 'JOURNAL_REDACT_AFTER_DAYS'), DEFAULT_REDACT_AFTER_DAYS, 1);
  if (redact === undefined)
    return fail('JOURNAL_REDACT_AFTER_DAYS', `must be a whole number of days, 1–${MAX_DAYS}, or "off" (0)`);
  const remove = days(
    text(env, 'JOURNAL_DELETE_AFTER_DAYS'),
    DEFAULT_DELETE_AFTER_DAYS,
    MIN_DELETE_AFTER_DAYS,
  );
  if (remove === undefined) {
    return fail(
      'JOURNAL_DELETE_AFTER_DAYS',
      `must be a whole number of days, ${MIN_DELETE_AFTER_DAYS}–${MAX_DAYS} (longer than Workflows keeps a finished run), or "off" (0)`,
    );
  }
  if (redact !== null && remove !== null && remove < redact) {
    return fail(
      'JOURNAL_DELETE_AFTER_DAYS',
      'must not be less than JOURNAL_REDACT_AFTER_DAYS (a row is redacted before it is deleted)',
    );
  }
  return { ok: true, config: { redactAfterDays: redact, deleteAfterDays: remove } };
}
