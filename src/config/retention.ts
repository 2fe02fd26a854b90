import { type ConfigFailure, check, configResult, integer } from '.';

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

export type RetentionConfigResult = { ok: true; config: RetentionConfig } | ConfigFailure;

export const DEFAULT_REDACT_AFTER_DAYS = 30;
export const DEFAULT_DELETE_AFTER_DAYS = 90;
/**
 * Workflows keeps a finished instance up to 30 days (its ID included): a row deleted sooner could be journaled again
 * under the same key and get the same instance ID `evt-<key>`, which the engine would not start again. Stripe also
 * lets an event be resent for up to 30 days.
 */
export const MIN_DELETE_AFTER_DAYS = 31;
const MAX_DAYS = 3650;

/** '0' or 'off': never. */
const OFF = /^(0+|off)$/i;

/** Reads JOURNAL_REDACT_AFTER_DAYS (default 30) and JOURNAL_DELETE_AFTER_DAYS (default 90), each in whole days. */
export function parseRetentionConfig(env: object): RetentionConfigResult {
  return configResult(() => {
    const redact = integer(
      env,
      'JOURNAL_REDACT_AFTER_DAYS',
      DEFAULT_REDACT_AFTER_DAYS,
      1,
      MAX_DAYS,
      'days',
      OFF,
    );
    const remove = integer(
      env,
      'JOURNAL_DELETE_AFTER_DAYS',
      DEFAULT_DELETE_AFTER_DAYS,
      MIN_DELETE_AFTER_DAYS,
      MAX_DAYS,
      'days (longer than Workflows keeps a finished run)',
      OFF,
    );
    check(
      redact === null || remove === null || remove >= redact,
      'JOURNAL_DELETE_AFTER_DAYS',
      'must not be less than JOURNAL_REDACT_AFTER_DAYS (a row is redacted before it is deleted)',
    );
    return { redactAfterDays: redact, deleteAfterDays: remove };
  });
}
