/**
 * Read-only views across the journal's tables for operators (the console and the admin API): failures grouped by
 * cause, an event's actions and coverage, and the figures of the health page. No writes here.
 */
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

type Row = Record<string, unknown>;
const num = (value: unknown) => (value === null || value === undefined ? null : Number(value));

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
 * automation it stopped at: `{"<automation>": {"failed": "<code>"}}`).
 */
const FAILURE_GROUPS = `SELECT event_type, code, COUNT(*) AS n, MIN(received_at) AS first_at, MAX(received_at) AS last_at,
    MAX(event_key) AS example_key, GROUP_CONCAT(DISTINCT automation) AS automations
  FROM (SELECT event_type, COALESCE(last_error_code, 'unknown') AS code, received_at, event_key,
          (SELECT j.key FROM json_each(CASE WHEN json_valid(result) THEN result ELSE '{}' END) j
            WHERE json_type(j.value, '$.failed') IS NOT NULL LIMIT 1) AS automation
        FROM events WHERE status = 'failed')
  GROUP BY event_type, code ORDER BY n DESC, last_at DESC LIMIT ?1`;

const automationsOf = (row: Row) =>
  typeof row.automations === 'string' && row.automations ? row.automations.split(',').sort() : [];

export function createInsights(db: D1Database) {
  return {
    /**
     * The failure groups without their example messages: the alerts read them every minute, and a message may
     * carry personal data.
     */
    async failureCauses(limit: number): Promise<Omit<FailureGroup, 'exampleMessage'>[]> {
      const { results } = await db.prepare(FAILURE_GROUPS).bind(limit).all<Row>();
      return results.map((row) => ({
        eventType: String(row.event_type),
        code: String(row.code),
        count: Number(row.n),
        firstAt: Number(row.first_at),
        lastAt: Number(row.last_at),
        exampleKey: String(row.example_key),
        automations: automationsOf(row),
      }));
    },

    /** Events `received` or `running` since before `before`, counted up to `cap`; and the oldest waiting event. */
    async backlog(before: number, cap: number): Promise<{ count: number; oldestAt: number | null }> {
      const row = await db
        .prepare(
          `SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM events
               WHERE status IN ('received', 'running') AND received_at < ?1 LIMIT ?2)) AS n,
             (SELECT MIN(received_at) FROM events WHERE status IN ('received', 'running')) AS oldest`,
        )
        .bind(before, cap)
        .first<Row>();
      return { count: Number(row?.n ?? 0), oldestAt: num(row?.oldest) };
    },

    /** The last finished run of each hook the recovery reads (`recovery:<hookId>` rows), at most `limit`. */
    async recoveryRuns(limit: number): Promise<RecoveryRun[]> {
      const { results } = await db
        .prepare(
          `SELECT name, last_finished_at, last_report FROM sweep_state
           WHERE name LIKE 'recovery:%' AND last_finished_at IS NOT NULL ORDER BY name LIMIT ?1`,
        )
        .bind(limit)
        .all<Row>();
      return results.map((row) => {
        const report = row.last_report ? JSON.parse(String(row.last_report)) : {};
        return {
          hookId: String(row.name).slice('recovery:'.length),
          finishedAt: Number(row.last_finished_at),
          recovered: Number(report.recovered ?? 0),
          from: num(report.from),
          to: num(report.to),
        };
      });
    },

    /** Failed events grouped by event type and error code, largest first. */
    async failureGroups(limit = 50): Promise<FailureGroup[]> {
      const causes = await this.failureCauses(limit);
      if (causes.length === 0) return [];
      // The example messages in one read, not one per group.
      const { results } = await db
        .prepare(
          'SELECT event_key, last_error_message FROM events WHERE event_key IN (SELECT value FROM json_each(?1))',
        )
        .bind(JSON.stringify(causes.map((cause) => cause.exampleKey)))
        .all<Row>();
      const messages = new Map(results.map((row) => [String(row.event_key), row.last_error_message]));
      return causes.map((cause) => {
        const message = messages.get(cause.exampleKey);
        return { ...cause, exampleMessage: message ? String(message) : null };
      });
    },

    /** The failed events of one group (keys, newest first), at most `limit`. */
    async failureGroupKeys(eventType: string, code: string, limit: number): Promise<string[]> {
      const { results } = await db
        .prepare(
          `SELECT event_key FROM events WHERE status = 'failed' AND event_type = ?1
             AND COALESCE(last_error_code, 'unknown') = ?2 ORDER BY received_at DESC LIMIT ?3`,
        )
        .bind(eventType, code, limit)
        .all<Row>();
      return results.map((row) => String(row.event_key));
    },

    async eventActions(eventKey: string): Promise<EventActions> {
      const [claimed, covered] = await db.batch<Row>([
        db
          .prepare(
            'SELECT action_key, status, claimed_at, done_at FROM actions WHERE event_key = ?1 ORDER BY claimed_at',
          )
          .bind(eventKey),
        db
          .prepare(
            `SELECT c.action_key, a.event_key AS by_event FROM coverage c
             LEFT JOIN actions a ON a.action_key = c.action_key WHERE c.event_key = ?1`,
          )
          .bind(eventKey),
      ]);
      return {
        claimed: (claimed?.results ?? []).map((row) => ({
          actionKey: String(row.action_key),
          status: String(row.status),
          claimedAt: Number(row.claimed_at),
          doneAt: num(row.done_at),
        })),
        coveredBy: (covered?.results ?? []).map((row) => ({
          actionKey: String(row.action_key),
          by: row.by_event === null ? '' : String(row.by_event),
        })),
      };
    },

    async health(): Promise<Health> {
      const [counts, arrivals, backlog, scans, held] = await db.batch<Row>([
        db.prepare('SELECT status, COUNT(*) AS n FROM events GROUP BY status'),
        db.prepare(
          `SELECT source, MAX(CASE WHEN arrived_via = 'delivered' THEN received_at END) AS delivered_at,
             MAX(received_at) AS last_at FROM events GROUP BY source ORDER BY last_at DESC`,
        ),
        db.prepare(`SELECT MIN(received_at) AS at FROM events WHERE status IN ('received', 'running')`),
        db.prepare('SELECT * FROM sweep_state ORDER BY name'),
        db.prepare(`SELECT COUNT(*) AS n FROM held_batches WHERE status = 'held'`),
      ]);
      return {
        counts: Object.fromEntries((counts?.results ?? []).map((row) => [String(row.status), Number(row.n)])),
        lastArrivals: (arrivals?.results ?? []).map((row) => ({
          source: String(row.source),
          lastDeliveredAt: num(row.delivered_at),
          lastAt: Number(row.last_at),
        })),
        oldestBacklogAt: num(backlog?.results[0]?.at),
        scans: (scans?.results ?? []).map((row) => ({
          name: String(row.name),
          cursor: Number(row.cursor),
          lastFinishedAt: num(row.last_finished_at),
          running: row.run_started_at !== null,
          lastReport: row.last_report ? JSON.parse(String(row.last_report)) : null,
        })),
        heldBatches: Number(held?.results[0]?.n ?? 0),
      };
    },
  };
}
export type Insights = ReturnType<typeof createInsights>;
