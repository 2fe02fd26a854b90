import { DurableObject } from 'cloudflare:workers';
import { createJournal, instanceIdOf, type JournalEntry } from '../journal';
import { log } from '../log';
import { type PlannedClaim, settleBeforeStart } from './claims';

export interface EventRunParams {
  eventKey: string;
}

/**
 * How long Cloudflare keeps a finished run's state (its steps' results, the first of which carries the raw body):
 * the journal holds the outcome, so a completed run goes after 3 days; one that errored stays for inspection.
 */
const RUN_RETENTION = { successRetention: '3 days', errorRetention: '30 days' } as const;

/** `createBatch` takes at most 100 instances. */
const BATCH_LIMIT = 100;

const alreadyExists = (error: unknown) => error instanceof Error && /already.?exists/i.test(error.message);

/** `Symbol.dispose` (not in the ES2023 types). Were it missing, `stub[undefined]` is undefined: nothing is called. */
const DISPOSE = (Symbol as unknown as { dispose: symbol }).dispose;

/** Workflow instances are RPC stubs: let one go at once rather than whenever the garbage collector runs. */
export const disposeStub = (stub: object) => (stub as Record<symbol, (() => void) | undefined>)[DISPOSE]?.();

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
    const batch = entries.slice(i, i + BATCH_LIMIT).map((entry) => ({
      id: instanceIdOf(entry),
      params: { eventKey: entry.eventKey },
      retention: RUN_RETENTION,
    }));
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
  /** Flush once no wake-up came for this long (ms). Default 250. */
  idleMs: number;
  /** Flush at the latest this long after the first wake-up of a batch (ms), busy or not. Default 5 000. */
  maxHoldMs: number;
  /**
   * Pause between the chunks of one flush (ms). Default 100. Back to back, the `createBatch` calls of a 2,000-event
   * burst held the first run's Management API answer for 13 s in local workerd (instance set-up took the isolate's
   * turn); with the pause, runs started first call Logto while the rest are being created.
   */
  pauseMs: number;
  /** After a failed flush, try again this much later (the events stay in the queue; the cron wakes it too). */
  retryMs: number;
  /** With `restart`, events started this long ago and still `received` are started again (the cron's restart). */
  restartAfterMs: number;
  /**
   * After a flush empties the queue, look once more this much later: an isolate wakes the starter at most every
   * {@link WAKE_EVERY_MS}, so an event recorded just after a flush may have come with no wake-up of its own.
   */
  trailingMs: number;
}

/**
 * A delivery wakes the run starter at most this often per isolate (a burst would otherwise cost one RPC per
 * delivery). Safe because the starter flushes only after wake-ups pause for longer, and looks again
 * {@link StarterTimings.trailingMs} after emptying its queue.
 */
export const WAKE_EVERY_MS = 150;

export const DEFAULT_STARTER_TIMINGS: StarterTimings = {
  idleMs: 250,
  maxHoldMs: 5_000,
  pauseMs: 100,
  retryMs: 5_000,
  restartAfterMs: 60_000,
  trailingMs: 3 * WAKE_EVERY_MS,
};

/** The deployment's one run starter object. */
export const STARTER_NAME = 'starter';

/** What the run starter asks of a wake-up: flush at once (someone waits), and restart long-unstarted runs. */
export interface WakeOptions {
  immediate?: boolean;
  restart?: boolean;
}

/** The claims an event can take before its run (undefined: its run claims for itself). */
export type StartPlanner = (env: Env) => (entry: JournalEntry) => PlannedClaim[] | undefined;

export interface StarterOptions {
  timings?: Partial<StarterTimings>;
  /**
   * The journal's clock (its timestamps, and which started runs count as stale). The alarm and the burst timings
   * always use the wall clock: a Durable Object alarm fires at a wall-clock time.
   */
  now?: () => number;
  /** Plans the claims of the events a flush starts (the automations of the Worker's configuration). */
  plan?: StartPlanner;
}

/**
 * Builds the Durable Object class that owns the batch of runs to start, for every isolate of the deployment. **The
 * journal is its queue**: every `received` event without a started run. A delivery only wakes it (`wake`, after its
 * answer, at most a few times a second per isolate); its alarm flushes once wake-ups pause (`idleMs`) or `maxHoldMs`
 * into a burst, in chunks of 100 events, oldest first: one D1 batch takes the claims their automations plan and
 * records as `covered` the events whose actions another event holds (the second event of a sign-up gets no Workflow
 * instance), `createBatch` starts the rest, and `started_at` records it. Creating instances costs more CPU than
 * answering a delivery, so holding them while a burst lasts keeps ingress at the speed of its D1 insert. Nothing is
 * lost: a lost wake-up or a failed flush leaves the events `received` in D1, and the next wake-up or the journal
 * cron (every minute) starts them.
 */
export function createStarterClass(options: StarterOptions = {}) {
  const { idleMs, maxHoldMs, pauseMs, retryMs, restartAfterMs, trailingMs } = {
    ...DEFAULT_STARTER_TIMINGS,
    ...options.timings,
  };
  const now = options.now ?? Date.now;
  return class RunStarter extends DurableObject<Env> {
    /** Memory of the object (one object: in-flight state may live here); the alarm itself is durable. */
    private armedAt: number | null = null;
    private firstWakeAt: number | null = null;
    private lastWakeAt = 0;
    private flushNow = false;
    private restart = false;
    /** The pending alarm is the look after a flush emptied the queue. */
    private trailing = false;

    constructor(ctx: DurableObjectState, env: Env) {
      super(ctx, env);
      void ctx.blockConcurrencyWhile(async () => {
        this.armedAt = await ctx.storage.getAlarm();
      });
    }

    private async arm(at: number): Promise<void> {
      this.armedAt = at;
      await this.ctx.storage.setAlarm(at);
    }

    /** Wakes the starter: new events are in the journal. The alarm is set once per batch, not per wake-up. */
    async wake(wake: WakeOptions = {}): Promise<void> {
      const at = Date.now();
      this.firstWakeAt ??= at;
      this.lastWakeAt = at;
      if (wake.restart) this.restart = true;
      if (wake.immediate) {
        this.flushNow = true;
        if (this.armedAt === null || this.armedAt > at) await this.arm(at);
      } else if (this.armedAt === null) await this.arm(at + idleMs);
    }

    override async alarm(): Promise<void> {
      this.armedAt = null;
      const at = Date.now();
      const first = this.firstWakeAt ?? at;
      // Deliveries still coming: wait for them to pause, but never past `maxHoldMs` after the first wake-up.
      if (!this.flushNow && at - this.lastWakeAt < idleMs && at - first < maxHoldMs) {
        await this.arm(Math.min(this.lastWakeAt + idleMs, first + maxHoldMs));
        return;
      }
      this.flushNow = false;
      const trailing = this.trailing;
      this.trailing = false;
      let started: number;
      let more: boolean;
      try {
        ({ started, more } = await this.flush(this.restart ? now() - restartAfterMs : undefined));
      } catch (error) {
        log('error', 'starter.flush_failed', { error: (error as Error).message, note: 'retrying' });
        this.flushNow = true;
        await this.arm(Date.now() + retryMs);
        return;
      }
      if (more) {
        // The rest of the queue: the next chunk after a short pause, whatever deliveries do meanwhile.
        this.flushNow = true;
        if (this.armedAt === null) await this.arm(Date.now() + pauseMs);
      } else {
        this.firstWakeAt = null;
        this.restart = false;
        // Look once more for events whose isolate did not wake us (see WAKE_EVERY_MS), unless this was that look
        // and it found nothing.
        if ((!trailing || started > 0) && this.armedAt === null) {
          this.trailing = true;
          this.flushNow = true;
          await this.arm(Date.now() + trailingMs);
        }
      }
    }

    /** Starts one chunk of the queue: how many events it took, and whether there may be more. */
    private async flush(
      restartStartedBefore: number | undefined,
    ): Promise<{ started: number; more: boolean }> {
      const journal = createJournal(this.env.JOURNAL, now);
      const entries = await journal.events.listToStart(BATCH_LIMIT, restartStartedBefore);
      if (entries.length === 0) return { started: 0, more: false };
      let settled = new Set<string>();
      try {
        const claimsOf = options.plan?.(this.env);
        const planned = entries.flatMap((entry) => {
          const claims = entry.replays === 0 ? claimsOf?.(entry) : undefined;
          return claims ? [{ eventKey: entry.eventKey, claims }] : [];
        });
        if (planned.length > 0) settled = await settleBeforeStart(journal, planned);
      } catch (error) {
        // Start them all: each run claims for itself in its first step.
        log('warn', 'starter.claim_failed', { error: (error as Error).message, note: 'the runs will claim' });
      }
      const toStart = entries.filter((entry) => !settled.has(entry.eventKey));
      await startRuns(this.env.EVENT_WORKFLOW, toStart);
      if (toStart.length > 0)
        await journal.batch([journal.events.markStartedStatement(toStart.map((entry) => entry.eventKey))]);
      return { started: entries.length, more: entries.length === BATCH_LIMIT };
    }
  };
}
