import { ConfigError } from '../composition';
import { parseRetentionConfig, type RetentionConfig } from '../config';
import type { Journal } from '../journal';
import { log } from '../log';

/**
 * Retention runs on this cron (wrangler.toml `[triggers] crons`), the recovery's: often enough that each invocation
 * has little to do, and apart from the every-minute journal sweep.
 */
export const RETENTION_CRON = '*/5 * * * *';

export interface RetentionLimits {
  /** Rows one statement changes at most. */
  rowsPerStatement: number;
  /** Statements per kind of work per invocation; what is left waits for the next invocation. */
  statementsPerKind: number;
}

/**
 * 500 rows a statement, 4 statements a kind: an invocation stays far below the Worker's and D1's limits, and still
 * keeps up with ~575,000 events a day (a backlog, e.g. when retention is first deployed, drains at that pace).
 */
export const RETENTION_LIMITS: RetentionLimits = { rowsPerStatement: 500, statementsPerKind: 4 };

export interface RetentionReport {
  /** Events deleted (with their run timeline and coverage). */
  deleted: number;
  /** Events whose body, result and error message were replaced by the marker. */
  redacted: number;
  /** Done actions whose detail was dropped (the ledger rows stay). */
  actionDetails: number;
  /** Held-batch items redacted, and released batches (and their items) deleted. */
  heldItemsRedacted: number;
  heldItemsDeleted: number;
  heldBatchesDeleted: number;
  /** Some kind used all its statements: the next invocation continues. */
  more: boolean;
}

const DAY_MS = 86_400_000;

/** The validated settings; a bad value throws {@link ConfigError} (by name), so nothing is pruned until it is fixed. */
export function retentionSettings(env: object): RetentionConfig {
  const parsed = parseRetentionConfig(env);
  if (!parsed.ok) throw new ConfigError(parsed.variable, parsed.reason);
  return parsed.config;
}

/**
 * One retention pass at `now`: deletes, then redacts, what is old enough — oldest first, in bounded statements. Deletion
 * goes first so that rows due for both are not redacted only to be deleted.
 */
export async function runRetention(
  journal: Pick<Journal, 'retention'>,
  settings: RetentionConfig,
  now: number,
  limits: RetentionLimits = RETENTION_LIMITS,
): Promise<RetentionReport> {
  const { retention } = journal;
  const report: RetentionReport = {
    deleted: 0,
    redacted: 0,
    actionDetails: 0,
    heldItemsRedacted: 0,
    heldItemsDeleted: 0,
    heldBatchesDeleted: 0,
    more: false,
  };
  /** Runs `chunk` until it changes fewer rows than a statement may, or used its statements; returns the total. */
  const repeat = async (chunk: (limit: number) => Promise<number>) => {
    let total = 0;
    for (let i = 0; i < limits.statementsPerKind; i++) {
      const changed = await chunk(limits.rowsPerStatement);
      total += changed;
      if (changed < limits.rowsPerStatement) return total;
    }
    report.more = true;
    return total;
  };
  if (settings.deleteAfterDays !== null) {
    const before = now - settings.deleteAfterDays * DAY_MS;
    report.deleted = await repeat((limit) => retention.deleteEvents(before, limit));
    report.heldItemsDeleted = await repeat(async (limit) => {
      const { items, batches } = await retention.deleteReleasedBatches(before, limit);
      report.heldBatchesDeleted += batches;
      return items;
    });
  }
  if (settings.redactAfterDays !== null) {
    const before = now - settings.redactAfterDays * DAY_MS;
    report.redacted = await repeat((limit) => retention.redactEvents(before, limit));
    report.actionDetails = await repeat((limit) => retention.redactActionDetails(before, limit));
    report.heldItemsRedacted = await repeat((limit) => retention.redactHeldItems(before, limit));
  }
  // Logged when anything changed (`more` is set only after statements that each changed rows).
  if (Object.values(report).some(Boolean)) log('info', 'cron.retention', { ...report });
  return report;
}
