import { DurableObject } from 'cloudflare:workers';
import { createJournal, instanceIdOf, type JournalEntry } from '../journal';
import { type PlannedClaim, settleBeforeStart } from './claims';

export interface EventRunParams {
  eventKey: string;
}

/** A run to start: the event, which run of it, and the claims it can take before the run. */
export interface StartRequest {
  eventKey: string;
  replays: number;
  claims?: PlannedClaim[];
}

/** `createBatch` takes at most 100 instances. */
const BATCH_LIMIT = 100;

const alreadyExists = (error: unknown) =>
  error instanceof Error && /already.?exists|instance\.already_exists/i.test(error.message);

const DISPOSE = (Symbol as unknown as { dispose?: symbol }).dispose;

/** Workflow instances are RPC stubs: let one go at once rather than whenever the garbage collector runs. */
export const disposeStub = (stub: object) => {
  if (DISPOSE) (stub as Record<symbol, (() => void) | undefined>)[DISPOSE]?.();
};

const disposeAll = (instances: readonly WorkflowInstance[]) => {
  for (const instance of instances) disposeStub(instance);
  return instances.length;
};

/**
 * Starts Workflow instances (one per event run, ID from the event key). Idempotent: an instance that already exists
 * counts as started. Returns how many were newly created.
 */
export async function startRuns(
  workflow: Workflow<EventRunParams>,
  entries: readonly Pick<JournalEntry, 'eventKey' | 'replays'>[],
): Promise<number> {
  let created = 0;
  for (let i = 0; i < entries.length; i += BATCH_LIMIT) {
    const batch = entries
      .slice(i, i + BATCH_LIMIT)
      .map((entry) => ({ id: instanceIdOf(entry), params: { eventKey: entry.eventKey } }));
    try {
      created += disposeAll(await workflow.createBatch(batch));
    } catch (error) {
      if (!alreadyExists(error) && batch.length === 1) throw error;
      // One of the batch exists already (a cron restart racing the ingress): create the rest one by one.
      for (const item of batch) {
        try {
          created += disposeAll([await workflow.create(item)]);
        } catch (inner) {
          if (!alreadyExists(inner)) throw inner;
        }
      }
    }
  }
  return created;
}

export interface StarterTimings {
  /** Flush once no start was handed over for this long (ms). Default 250. */
  idleMs: number;
  /** Flush at the latest this long after the first held start (ms), busy or not. Default 5 000. */
  maxHoldMs: number;
  /**
   * Pause between the chunks of one flush (ms). Default 100. Back to back, the `createBatch` calls of a 2,000-event
   * burst held the first run's Management API answer for 13 s in local workerd (instance set-up took the isolate's
   * turn); with the pause, runs started first call Logto while the rest are being created.
   */
  pauseMs: number;
  /** After a failed flush, try again this much later (the rows stay; the cron restarts events after 1 min too). */
  retryMs: number;
}

export const DEFAULT_STARTER_TIMINGS: StarterTimings = {
  idleMs: 250,
  maxHoldMs: 5_000,
  pauseMs: 100,
  retryMs: 5_000,
};

/** Where deliveries hand their runs over: the deployment's one {@link createStarterClass} object. */
export const STARTER_NAME = 'starter';

type Row = Record<string, SqlStorageValue>;

/**
 * Builds the Durable Object class that owns the batch of runs to start, for every isolate of the deployment. A
 * delivery hands its start over (`hold`, a row in the object's SQLite storage) and is answered; the object's alarm
 * flushes once deliveries pause (`idleMs`) or `maxHoldMs` into a burst, in chunks of 100: one D1 batch takes the
 * claims the events planned and records as `covered` those whose actions another event holds (the second event of
 * a sign-up gets no Workflow instance), then one `createBatch` starts the rest. Creating instances costs more CPU
 * than answering a delivery, so holding them while a burst lasts keeps ingress at the speed of its D1 insert.
 * Nothing is lost: rows are durable and a failed flush is retried; an event whose start never happens stays
 * `received` and the journal cron starts it.
 */
export function createStarterClass(timings: Partial<StarterTimings> = {}, now: () => number = Date.now) {
  const { idleMs, maxHoldMs, pauseMs, retryMs } = { ...DEFAULT_STARTER_TIMINGS, ...timings };
  return class RunStarter extends DurableObject<Env> {
    constructor(ctx: DurableObjectState, env: Env) {
      super(ctx, env);
      ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS held (id INTEGER PRIMARY KEY AUTOINCREMENT,
        event_key TEXT NOT NULL, replays INTEGER NOT NULL, claims TEXT, held_at INTEGER NOT NULL)`);
    }

    /** Holds runs to start; `immediate` flushes at once (an operator's replay, the cron), else after a pause. */
    async hold(requests: readonly StartRequest[], options: { immediate?: boolean } = {}): Promise<void> {
      const sql = this.ctx.storage.sql;
      const at = now();
      for (const request of requests) {
        sql.exec(
          'INSERT INTO held (event_key, replays, claims, held_at) VALUES (?, ?, ?, ?)',
          request.eventKey,
          request.replays,
          request.claims ? JSON.stringify(request.claims) : null,
          at,
        );
      }
      const first = Number(sql.exec<Row>('SELECT MIN(held_at) AS first FROM held').one().first ?? at);
      const armed = await this.ctx.storage.getAlarm();
      // An alarm already due fires soon with these rows too; otherwise each hand-over pushes the flush back until
      // deliveries pause, but never past `maxHoldMs` after the first held start.
      if (armed !== null && armed <= at) return;
      await this.ctx.storage.setAlarm(options.immediate ? at : Math.min(first + maxHoldMs, at + idleMs));
    }

    /** How many starts are held (health checks, tests). */
    async pending(): Promise<number> {
      return Number(this.ctx.storage.sql.exec<Row>('SELECT COUNT(*) AS n FROM held').one().n);
    }

    override async alarm(): Promise<void> {
      const sql = this.ctx.storage.sql;
      const rows = sql
        .exec<Row>(`SELECT id, event_key, replays, claims FROM held ORDER BY id LIMIT ${BATCH_LIMIT}`)
        .toArray();
      if (rows.length === 0) return;
      const requests: StartRequest[] = rows.map((row) => ({
        eventKey: String(row.event_key),
        replays: Number(row.replays),
        claims: row.claims ? (JSON.parse(String(row.claims)) as PlannedClaim[]) : undefined,
      }));
      try {
        await this.flush(requests);
      } catch (error) {
        console.error(`run starter: flush failed, retrying: ${(error as Error).message}`);
        await this.ctx.storage.setAlarm(now() + retryMs);
        return;
      }
      const last = Number(rows[rows.length - 1]?.id);
      sql.exec('DELETE FROM held WHERE id <= ?', last);
      const left = Number(sql.exec<Row>('SELECT COUNT(*) AS n FROM held').one().n);
      if (left > 0) await this.ctx.storage.setAlarm(now() + pauseMs);
    }

    private async flush(requests: StartRequest[]): Promise<void> {
      const journal = createJournal(this.env.JOURNAL, now);
      const planned = requests.flatMap((request) =>
        request.claims ? [{ eventKey: request.eventKey, claims: request.claims }] : [],
      );
      let settled = new Set<string>();
      try {
        if (planned.length > 0) settled = await settleBeforeStart(journal, planned);
      } catch (error) {
        // Start them all: each run claims for itself in its first step.
        console.error(
          `run starter: claiming before start failed, runs will claim: ${(error as Error).message}`,
        );
      }
      const unique = new Map<string, StartRequest>();
      for (const request of requests)
        if (!settled.has(request.eventKey)) unique.set(instanceIdOf(request), request);
      await startRuns(this.env.EVENT_WORKFLOW, [...unique.values()]);
    }
  };
}
