/**
 * The `alerts` table: one row per cause an operator is told about (src/alerts holds the policy). Storage only. Several
 * cron invocations may evaluate at once, in different isolates, so every change is one conditional statement: a
 * cause opens once, a notice is sent by whoever claims it first, and a view older than the row's never undoes it.
 */

export type AlertKind = 'failure' | 'recovery' | 'backlog' | 'batch';
export type AlertState = 'open' | 'resolved';
/** Which notice: the one saying a cause appeared, or the one saying it is gone. */
export type AlertPhase = 'opened' | 'resolved';

export interface AlertRecord {
  cause: string;
  kind: AlertKind;
  state: AlertState;
  /** What the notices say: identifiers, counts, codes, times (never a payload, an email or a secret). */
  data: Record<string, unknown>;
  /** When this incident was first seen; names the incident (a cause seen again after its resolution is a new one). */
  openedAt: number;
  seenAt: number;
  resolvedAt: number | null;
  openSentAt: number | null;
  resolvedSentAt: number | null;
  leaseUntil: number | null;
  attempts: number;
  lastError: string | null;
}

/** A cause present at an evaluation. */
export interface RaisedAlert {
  cause: string;
  kind: AlertKind;
  data: Record<string, unknown>;
}

type Row = Record<string, unknown>;
const num = (value: unknown) => (value === null || value === undefined ? null : Number(value));

const recordOf = (row: Row): AlertRecord => ({
  cause: String(row.cause),
  kind: row.kind as AlertKind,
  state: row.state as AlertState,
  data: JSON.parse(String(row.data)),
  openedAt: Number(row.opened_at),
  seenAt: Number(row.seen_at),
  resolvedAt: num(row.resolved_at),
  openSentAt: num(row.open_sent_at),
  resolvedSentAt: num(row.resolved_sent_at),
  leaseUntil: num(row.lease_until),
  attempts: Number(row.attempts),
  lastError: row.last_error === null ? null : String(row.last_error),
});

/** A notice is due: the open one not sent, or the resolved one of an incident whose opening was sent. */
const DUE = `((state = 'open' AND open_sent_at IS NULL)
  OR (state = 'resolved' AND open_sent_at IS NOT NULL AND resolved_sent_at IS NULL))`;
const FREE = '(lease_until IS NULL OR lease_until <= ?3)';

/** Statements per D1 batch. */
const CHUNK = 50;

export function createAlertsTable(db: D1Database, now: () => number) {
  const inChunks = async (statements: D1PreparedStatement[]) => {
    let changed = 0;
    for (let i = 0; i < statements.length; i += CHUNK)
      for (const result of await db.batch(statements.slice(i, i + CHUNK)))
        changed += result.meta.changes ?? 0;
    return changed;
  };
  return {
    /**
     * Records that these causes were present at evaluation time `at`. A new cause opens; an open one only notes the
     * sighting (and takes the newer data while its open notice is unsent). A resolved one opens a new incident —
     * only if its resolution is older than `at` (a stale view never undoes a newer one), its resolved notice is
     * settled (sent, or nothing was ever told) and no sender holds it: the receiver sees open, resolved, open.
     */
    async raise(alerts: readonly RaisedAlert[], at: number): Promise<void> {
      await inChunks(
        alerts.map((alert) =>
          db
            .prepare(
              `INSERT INTO alerts (cause, kind, state, data, opened_at, seen_at) VALUES (?1, ?2, 'open', ?4, ?5, ?5)
               ON CONFLICT (cause) DO UPDATE SET
                 data = CASE WHEN state = 'resolved' OR open_sent_at IS NULL THEN excluded.data ELSE data END,
                 opened_at = CASE WHEN state = 'resolved' THEN excluded.opened_at ELSE opened_at END,
                 seen_at = MAX(seen_at, excluded.seen_at),
                 resolved_at = CASE WHEN state = 'resolved' THEN NULL ELSE resolved_at END,
                 open_sent_at = CASE WHEN state = 'resolved' THEN NULL ELSE open_sent_at END,
                 resolved_sent_at = CASE WHEN state = 'resolved' THEN NULL ELSE resolved_sent_at END,
                 attempts = CASE WHEN state = 'resolved' THEN 0 ELSE attempts END,
                 last_error = CASE WHEN state = 'resolved' THEN NULL ELSE last_error END,
                 state = 'open'
               WHERE state = 'open' OR (resolved_at < excluded.seen_at
                 AND (resolved_sent_at IS NOT NULL OR open_sent_at IS NULL) AND ${FREE})`,
            )
            .bind(alert.cause, alert.kind, now(), JSON.stringify(alert.data), at),
        ),
      );
    },

    /** Resolves these causes as of `at`, each only if still open and no evaluation at or after `at` saw it. */
    async resolve(causes: readonly string[], at: number): Promise<number> {
      return inChunks(
        causes.map((cause) =>
          db
            .prepare(
              `UPDATE alerts SET state = 'resolved', resolved_at = ?2
               WHERE cause = ?1 AND state = 'open' AND seen_at < ?2`,
            )
            .bind(cause, at),
        ),
      );
    },

    async get(cause: string): Promise<AlertRecord | undefined> {
      const row = await db.prepare('SELECT * FROM alerts WHERE cause = ?1').bind(cause).first<Row>();
      return row ? recordOf(row) : undefined;
    },

    /** Open alerts (of one kind), oldest first. */
    async listOpen(kind: AlertKind | undefined, limit: number): Promise<AlertRecord[]> {
      const { results } = kind
        ? await db
            .prepare(
              `SELECT * FROM alerts WHERE state = 'open' AND kind = ?1 ORDER BY opened_at, cause LIMIT ?2`,
            )
            .bind(kind, limit)
            .all<Row>()
        : await db
            .prepare(`SELECT * FROM alerts WHERE state = 'open' ORDER BY opened_at, cause LIMIT ?1`)
            .bind(limit)
            .all<Row>();
      return results.map(recordOf);
    },

    /** Alerts with a notice due that no sender holds, oldest first. */
    async due(limit: number): Promise<AlertRecord[]> {
      const { results } = await db
        .prepare(
          `SELECT * FROM alerts WHERE ${DUE} AND ${FREE.replace('?3', '?1')} ORDER BY opened_at, cause LIMIT ?2`,
        )
        .bind(now(), limit)
        .all<Row>();
      return results.map(recordOf);
    },

    /**
     * Claims the `phase` notice of the incident opened at `openedAt` until `leaseUntil`: true for one caller only,
     * while it is due and no other sender holds it (a claim whose sender died lapses at its `lease_until`).
     */
    async claim(cause: string, openedAt: number, phase: AlertPhase, leaseUntil: number): Promise<boolean> {
      const due =
        phase === 'opened'
          ? `state = 'open' AND open_sent_at IS NULL`
          : `state = 'resolved' AND open_sent_at IS NOT NULL AND resolved_sent_at IS NULL`;
      const result = await db
        .prepare(
          `UPDATE alerts SET lease_until = ?4, attempts = attempts + 1
           WHERE cause = ?1 AND opened_at = ?2 AND ${due} AND ${FREE}`,
        )
        .bind(cause, openedAt, now(), leaseUntil)
        .run();
      return (result.meta.changes ?? 0) > 0;
    },

    /**
     * The receiver accepted the notice. An open notice counts even if the cause was resolved meanwhile (its resolved
     * notice becomes due).
     */
    async sent(cause: string, openedAt: number, phase: AlertPhase): Promise<boolean> {
      const column = phase === 'opened' ? 'open_sent_at' : 'resolved_sent_at';
      const result = await db
        .prepare(
          `UPDATE alerts SET ${column} = ?3, lease_until = NULL, last_error = NULL
           WHERE cause = ?1 AND opened_at = ?2 AND ${column} IS NULL`,
        )
        .bind(cause, openedAt, now())
        .run();
      return (result.meta.changes ?? 0) > 0;
    },

    /** The send failed: the claim is given back (only the claimer's own) so the next run tries again. */
    async failed(cause: string, openedAt: number, leaseUntil: number, error: string): Promise<void> {
      await db
        .prepare(
          `UPDATE alerts SET lease_until = NULL, last_error = ?4
           WHERE cause = ?1 AND opened_at = ?2 AND lease_until = ?3`,
        )
        .bind(cause, openedAt, leaseUntil, error)
        .run();
    },

    /** Deletes up to `limit` incidents resolved before `before` with nothing left to send; returns how many. */
    async prune(before: number, limit: number): Promise<number> {
      const result = await db
        .prepare(
          `DELETE FROM alerts WHERE cause IN (SELECT cause FROM alerts WHERE state = 'resolved' AND resolved_at < ?1
             AND (resolved_sent_at IS NOT NULL OR open_sent_at IS NULL) AND ${FREE.replace('?3', '?2')} LIMIT ?3)`,
        )
        .bind(before, now(), limit)
        .run();
      return result.meta.changes ?? 0;
    },
  };
}
export type AlertsTable = ReturnType<typeof createAlertsTable>;
