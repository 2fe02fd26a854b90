/**
 * The D1 journal, storage only: one module per table behind the interfaces below. Every write that two requests may
 * race on is one conditional statement (or a D1 batch, which is atomic); the policies that use them — who may act,
 * when a run is done, what is re-opened — live in src/pipeline.
 *
 * - `events` (events.ts): one row per inbound event; recording is `INSERT … ON CONFLICT DO NOTHING` on the event key.
 * - `actions` (actions.ts): the ledger — claims, takeovers, completions, coverage, entries into non-idempotent steps.
 * - `links` (links.ts): external accounts → Logto users, and ordering watermarks.
 * - `scans` (scan-state.ts): the user scans' cursors.
 * - `batches` (batches.ts): held mass changes (brakes) awaiting an operator's decision.
 * - `timeline` (timeline.ts): each call attempt of a run (the console's timeline).
 * - `retention` (retention.ts): redaction and deletion of what is no longer needed, in bounded chunks.
 * - `alerts` (alerts.ts): the causes an operator is told about, and which notices were sent (src/alerts decides).
 */
import { type ActionsTable, createActionsTable } from './actions';
import { type AlertsTable, createAlertsTable } from './alerts';
import { type BatchesTable, createBatchesTable } from './batches';
import { createEventsTable, type EventsTable } from './events';
import { createInsights, type Insights } from './insights';
import { createLinksTable, type LinksTable } from './links';
import { createRetention, type Retention } from './retention';
import { createScanStateTable, type ScanStateTable } from './scan-state';
import { createTimelineTable, type TimelineTable } from './timeline';

export type { ActionRecord, ActionsTable, ClaimRow } from './actions';
export type {
  AlertKind,
  AlertPhase,
  AlertRecord,
  AlertState,
  AlertsTable,
  RaisedAlert,
} from './alerts';
export {
  BATCH_STATUSES,
  type BatchesTable,
  type BatchKind,
  type BatchStatus,
  type HeldBatch,
  type HeldItem,
} from './batches';
export {
  type ArrivedVia,
  EVENT_STATUSES,
  type EventOutcome,
  type EventStatus,
  type EventsTable,
  instanceIdOf,
  isReplayable,
  type JournalEntry,
  type ListFilter,
  MAX_ERROR_MESSAGE_CHARS,
  MAX_RESULT_CHARS,
  type NewEvent,
  REPLAYABLE,
  resultJson,
} from './events';
export {
  createInsights,
  type EventActions,
  type FailureGroup,
  type Health,
  type Insights,
  type RecoveryRun,
  type ScanSummary,
} from './insights';
export type { LinksTable } from './links';
export { REDACTED_BODY, type Retention } from './retention';
export type { ScanState, ScanStateTable } from './scan-state';
export { type CallRecord, MAX_CALLS_PER_EVENT, type TimelineTable } from './timeline';

export interface Journal {
  events: EventsTable;
  actions: ActionsTable;
  links: LinksTable;
  scans: ScanStateTable;
  batches: BatchesTable;
  timeline: TimelineTable;
  /** Alerts: one row per cause, its notices' delivery (src/alerts). */
  alerts: AlertsTable;
  /** Redaction and deletion of old rows (bounded chunks; the retention cron drives it). */
  retention: Retention;
  /** Read-only views for operators: failure groups, an event's actions, health. */
  insights: Insights;
  /** Runs statements of any tables as one D1 batch: atomic, one round trip. */
  batch<T = Record<string, unknown>>(statements: D1PreparedStatement[]): Promise<D1Result<T>[]>;
}

/** Creates the journal over a D1 database (`env.JOURNAL`). */
export function createJournal(db: D1Database, now: () => number = Date.now): Journal {
  return {
    events: createEventsTable(db, now),
    actions: createActionsTable(db, now),
    links: createLinksTable(db, now),
    scans: createScanStateTable(db),
    batches: createBatchesTable(db, now),
    timeline: createTimelineTable(db),
    alerts: createAlertsTable(db, now),
    retention: createRetention(db, now),
    insights: createInsights(db),
    batch: (statements) => db.batch(statements),
  };
}
