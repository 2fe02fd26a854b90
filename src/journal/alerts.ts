/**
 * The `alerts` table: one row per cause an operator is told about (src/alerts holds the policy). Storage only. Several
 * cron invocations may evaluate at once, in different isolates, so every change is one conditional statement: a
 * cause opens once, a notice is sent by whoever claims it first, and a view older than the row's never undoes it.
 */
import { type Row, statements } from './d1';

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

/** The columns of an {@link AlertRecord}, in its fields' order and named as them (`data` is still JSON text). */
const RECORD = `cause, kind, state, data, opened_at AS openedAt, seen_at AS seenAt, resolved_at AS resolvedAt,
  open_sent_at AS openSentAt, resolved_sent_at AS resolvedSentAt, lease_until AS leaseUntil, attempts,
  last_error AS lastError`;
const recordOf = (row: Row) => ({ ...row, data: JSON.parse(row.data as string) }) as AlertRecord;

/** The open notice is due, or the resolved one (only for an incident whose opening was sent). */
const OPEN_DUE = `state = 'open' AND open_sent_at IS NULL`;
const RESOLVED_DUE = `state = 'resolved' AND open_sent_at IS NOT NULL AND resolved_sent_at IS NULL`;
/** The resolved notice is settled: sent, or nothing was ever told. */
const SETTLED = '(resolved_sent_at IS NOT NULL OR open_sent_at IS NULL)';
/** No sender holds the row at time `?<param>`. */
const free = (param: number) => `(lease_until IS NULL OR lease_until <= ?${param})`;

/** Statements per D1 batch. */
const CHUNK = 50;

/** Raises cause ?1 of kind ?2 with data ?4, seen at ?5, at time ?3 (see {@link AlertsTable.raise}). */
const RAISE = `INSERT INTO alerts (cause, kind, state, data, opened_at, seen_at) VALUES (?1, ?2, 'open', ?4, ?5, ?5)
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
  WHERE state = 'open' OR (resolved_at < excluded.seen_at AND ${SETTLED} AND ${free(3)})`;

export function createAlertsTable(db: D1Database, now: () => number) {
  const { sql, run, all } = statements(db);
  return {
    /**
     * Records that these causes were present at evaluation time `at`. A new cause opens; an open one only notes the
     * sighting (and takes the newer data while its open notice is unsent). A resolved one opens a new incident —
     * only if its resolution is older than `at` (a stale view never undoes a newer one), its resolved notice is
     * settled (sent, or nothing was ever told) and no sender holds it: the receiver sees open, resolved, open.
     */
    async raise(alerts: readonly RaisedAlert[], at: number): Promise<void> {
      const writes = alerts.map((alert) =>
        sql(RAISE, alert.cause, alert.kind, now(), JSON.stringify(alert.data), at),
      );
      for (let i = 0; i < writes.length; i += CHUNK) await db.batch(writes.slice(i, i + CHUNK));
    },

    /** Resolves these causes as of `at`, each only if still open and no evaluation at or after `at` saw it. */
    async resolve(causes: readonly string[], at: number): Promise<number> {
      if (causes.length === 0) return 0;
      return run(
        `UPDATE alerts SET state = 'resolved', resolved_at = ?2
         WHERE cause IN (SELECT value FROM json_each(?1)) AND state = 'open' AND seen_at < ?2`,
        JSON.stringify(causes),
        at,
      );
    },

    /** Open alerts (of one kind), oldest first. */
    async listOpen(kind: AlertKind | undefined, limit: number): Promise<AlertRecord[]> {
      const rows = await all(
        `SELECT ${RECORD} FROM alerts WHERE state = 'open' AND (?1 IS NULL OR kind = ?1)
         ORDER BY opened_at, cause LIMIT ?2`,
        kind ?? null,
        limit,
      );
      return rows.map(recordOf);
    },

    /** Alerts with a notice due that no sender holds, oldest first. */
    async due(limit: number): Promise<AlertRecord[]> {
      const rows = await all(
        `SELECT ${RECORD} FROM alerts WHERE ((${OPEN_DUE}) OR (${RESOLVED_DUE})) AND ${free(1)}
         ORDER BY opened_at, cause LIMIT ?2`,
        now(),
        limit,
      );
      return rows.map(recordOf);
    },

    /**
     * Claims the `phase` notice of the incident opened at `openedAt` until `leaseUntil`: true for one caller only,
     * while it is due and no other sender holds it (a claim whose sender died lapses at its `lease_until`).
     */
    async claim(cause: string, openedAt: number, phase: AlertPhase, leaseUntil: number): Promise<boolean> {
      const claimed = await run(
        `UPDATE alerts SET lease_until = ?4, attempts = attempts + 1
         WHERE cause = ?1 AND opened_at = ?2 AND ${phase === 'opened' ? OPEN_DUE : RESOLVED_DUE} AND ${free(3)}`,
        cause,
        openedAt,
        now(),
        leaseUntil,
      );
      return claimed > 0;
    },

    /**
     * The receiver accepted the notice. An open notice counts even if the cause was resolved meanwhile (its resolved
     * notice becomes due).
     */
    async sent(cause: string, openedAt: number, phase: AlertPhase): Promise<boolean> {
      const column = phase === 'opened' ? 'open_sent_at' : 'resolved_sent_at';
      const sent = await run(
        `UPDATE alerts SET ${column} = ?3, lease_until = NULL, last_error = NULL
         WHERE cause = ?1 AND opened_at = ?2 AND ${column} IS NULL`,
        cause,
        openedAt,
        now(),
      );
      return sent > 0;
    },

    /** The send failed: the claim is given back (only the claimer's own) so the next run tries again. */
    async failed(cause: string, openedAt: number, leaseUntil: number, error: string): Promise<void> {
      await run(
        `UPDATE alerts SET lease_until = NULL, last_error = ?4
         WHERE cause = ?1 AND opened_at = ?2 AND lease_until = ?3`,
        cause,
        openedAt,
        leaseUntil,
        error,
      );
    },

    /** Deletes up to `limit` incidents resolved before `before` with nothing left to send; returns how many. */
    prune: (before: number, limit: number): Promise<number> =>
      run(
        `DELETE FROM alerts WHERE cause IN (SELECT cause FROM alerts WHERE state = 'resolved' AND resolved_at < ?1
           AND ${SETTLED} AND ${free(2)} LIMIT ?3)`,
        before,
        now(),
        limit,
      ),
  };
}
export type AlertsTable = ReturnType<typeof createAlertsTable>;
