/**
 * Read-only views across the journal's tables for operators (the console and the admin API): failures grouped by
 * cause, an event's actions and coverage, and the figures of the health page. No writes here.
 */
import { json, type Row, statements } from './d1';
import { COUNTS, countsOf } from './events';

export interface FailureGroup {
  eventType: string;
  code: string;
  count: number;
  firstAt: number;
  lastAt: number;
  /** One failed event of the group (its message is the group's example). */
  exampleKey: string;
  exampleMessage: string | null;
  /** The automations the group's runs failed in (empty when a run failed before any: invalid payload, config). */
  automations: string[];
}

export interface EventActions {
  /** Actions this event claimed (its own), with their status. */
  claimed: { actionKey: string; status: string; claimedAt: number; doneAt: number | null }[];
  /** Actions this event left to others (`coverage`): which action, held by which event. */
  coveredBy: { actionKey: string; by: string }[];
}

export interface ScanSummary {
  name: string;
  cursor: number;
  lastFinishedAt: number | null;
  running: boolean;
  lastReport: unknown;
}

export interface Health {
  counts: Record<string, number>;
  /** Per source, the last event that arrived live (delivered), and the last of any kind. */
  lastArrivals: { source: string; lastDeliveredAt: number | null; lastAt: number }[];
  oldestBacklogAt: number | null;
  scans: ScanSummary[];
  heldBatches: number;
}

/** A recovery run's outcome as its `sweep_state` row keeps it (src/sweep/recovery.ts). */
export interface RecoveryRun {
  hookId: string;
  finishedAt: number;
  /** Failed deliveries the run journaled (those journaled before, by a live copy or an earlier run, not counted). */
  recovered: number;
  from: number | null;
  to: number | null;
}

/**
 * Failed events by cause: event type and error code, with the automations that failed (the run's `result` names the
 * automation it stopped at: `{"<automation>": {"failed": "<code>"}}`). Columns named as a {@link FailureGroup}'s fields;
 * `automations` is still the comma-separated text of `GROUP_CONCAT`.
 */
const FAILURE_GROUPS = `SELECT event_type AS eventType, code, COUNT(*) AS count, MIN(received_at) AS firstAt,
    MAX(received_at) AS lastAt, MAX(event_key) AS exampleKey, GROUP_CONCAT(DISTINCT automation) AS automations
  FROM (SELECT event_type, COALESCE(last_error_code, 'unknown') AS code, received_at, event_key,
          (SELECT j.key FROM json_each(CASE WHEN json_valid(result) THEN result ELSE '{}' END) j
            WHERE CASE WHEN j.type = 'object' THEN json_type(j.value, '$.failed') END IS NOT NULL LIMIT 1) AS automation
        FROM events WHERE status = 'failed')
  GROUP BY event_type, code ORDER BY count DESC, lastAt DESC LIMIT ?1`;

export function createInsights(db: D1Database) {
  const { sql, all, first } = statements(db);
  return {
    /**
     * The failure groups without their example messages: the alerts read them every minute, and a message may
     * carry personal data.
     */
    async failureCauses(limit: number): Promise<Omit<FailureGroup, 'exampleMessage'>[]> {
      const rows = await all(FAILURE_GROUPS, limit);
      return rows.map(
        (row) =>
          ({
            ...row,
            automations: row.automations ? (row.automations as string).split(',').sort() : [],
          }) as Omit<FailureGroup, 'exampleMessage'>,
      );
    },

    /** Events `received` or `running` since before `before`, counted up to `cap`; and the oldest waiting event. */
    async backlog(before: number, cap: number): Promise<{ count: number; oldestAt: number | null }> {
      const row = await first<{ count: number; oldestAt: number | null }>(
        `SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM events
             WHERE status IN ('received', 'running') AND received_at < ?1 LIMIT ?2)) AS count,
           (SELECT MIN(received_at) FROM events WHERE status IN ('received', 'running')) AS oldestAt`,
        before,
        cap,
      );
      return { count: row?.count ?? 0, oldestAt: row?.oldestAt ?? null };
    },

    /** The last finished run of each hook the recovery reads (`recovery:<hookId>` rows), at most `limit`. */
    async recoveryRuns(limit: number): Promise<RecoveryRun[]> {
      const rows = await all<{ name: string; finishedAt: number; report: string | null }>(
        `SELECT name, last_finished_at AS finishedAt, last_report AS report FROM sweep_state
         WHERE name LIKE 'recovery:%' AND last_finished_at IS NOT NULL ORDER BY name LIMIT ?1`,
        limit,
      );
      return rows.map((row) => {
        const report = json(row.report) ?? {};
        return {
          hookId: row.name.slice('recovery:'.length),
          finishedAt: row.finishedAt,
          recovered: report.recovered ?? 0,
          from: report.from ?? null,
          to: report.to ?? null,
        };
      });
    },

    /** Failed events grouped by event type and error code, largest first. */
    async failureGroups(limit = 50): Promise<FailureGroup[]> {
      const causes = await this.failureCauses(limit);
      if (causes.length === 0) return [];
      // The example messages in one read, not one per group.
      const rows = await all<{ event_key: string; last_error_message: string | null }>(
        'SELECT event_key, last_error_message FROM events WHERE event_key IN (SELECT value FROM json_each(?1))',
        JSON.stringify(causes.map((cause) => cause.exampleKey)),
      );
      const messages = new Map(rows.map((row) => [row.event_key, row.last_error_message]));
      return causes.map((cause) => ({ ...cause, exampleMessage: messages.get(cause.exampleKey) || null }));
    },

    /** The failed events of one group (keys, newest first), at most `limit`. */
    async failureGroupKeys(eventType: string, code: string, limit: number): Promise<string[]> {
      const rows = await all<{ event_key: string }>(
        `SELECT event_key FROM events WHERE status = 'failed' AND event_type = ?1
           AND COALESCE(last_error_code, 'unknown') = ?2 ORDER BY received_at DESC LIMIT ?3`,
        eventType,
        code,
        limit,
      );
      return rows.map((row) => row.event_key);
    },

    async eventActions(eventKey: string): Promise<EventActions> {
      const [claimed, coveredBy] = await db.batch([
        sql(
          `SELECT action_key AS actionKey, status, claimed_at AS claimedAt, done_at AS doneAt FROM actions
           WHERE event_key = ?1 ORDER BY claimed_at`,
          eventKey,
        ),
        sql(
          `SELECT c.action_key AS actionKey, COALESCE(a.event_key, '') AS "by" FROM coverage c
           LEFT JOIN actions a ON a.action_key = c.action_key WHERE c.event_key = ?1`,
          eventKey,
        ),
      ]);
      return {
        claimed: (claimed?.results ?? []) as EventActions['claimed'],
        coveredBy: (coveredBy?.results ?? []) as EventActions['coveredBy'],
      };
    },

    async health(): Promise<Health> {
      const [counts, arrivals, backlog, scans, held] = await db.batch<Row>([
        sql(COUNTS),
        sql(
          `SELECT source, MAX(CASE WHEN arrived_via = 'delivered' THEN received_at END) AS lastDeliveredAt,
             MAX(received_at) AS lastAt FROM events GROUP BY source ORDER BY lastAt DESC`,
        ),
        sql(`SELECT MIN(received_at) AS at FROM events WHERE status IN ('received', 'running')`),
        sql(
          `SELECT name, cursor, last_finished_at AS lastFinishedAt, run_started_at IS NOT NULL AS running,
             last_report AS lastReport FROM sweep_state ORDER BY name`,
        ),
        sql(`SELECT COUNT(*) AS n FROM held_batches WHERE status = 'held'`),
      ]);
      return {
        counts: countsOf(counts?.results ?? []) as Record<string, number>,
        lastArrivals: (arrivals?.results ?? []) as Health['lastArrivals'],
        oldestBacklogAt: (backlog?.results[0]?.at as number | null | undefined) ?? null,
        scans: (scans?.results ?? []).map((row) => ({
          ...row,
          running: row.running === 1,
          lastReport: json(row.lastReport),
        })) as ScanSummary[],
        heldBatches: (held?.results[0]?.n as number | undefined) ?? 0,
      };
    },
  };
}
export type Insights = ReturnType<typeof createInsights>;
