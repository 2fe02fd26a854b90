import { instanceIdOf, type Journal, type JournalEntry } from '../journal';
import type { StartRequest } from './ingest';

export interface EventRunParams {
  eventKey: string;
}

/** `createBatch` takes at most 100 instances. */
const BATCH_LIMIT = 100;

const alreadyExists = (error: unknown) =>
  error instanceof Error && /already.?exists|instance\.already_exists/i.test(error.message);

/**
 * Starts Workflow instances (one per event run, ID from the event key). Idempotent: an instance that already exists
 * counts as started. Returns how many were newly created.
 */
export async function startRuns(
  workflow: Workflow<EventRunParams>,
  entries: Pick<JournalEntry, 'eventKey' | 'replays'>[],
): Promise<number> {
  let created = 0;
  for (let i = 0; i < entries.length; i += BATCH_LIMIT) {
    const batch = entries
      .slice(i, i + BATCH_LIMIT)
      .map((entry) => ({ id: instanceIdOf(entry), params: { eventKey: entry.eventKey } }));
    try {
      created += (await workflow.createBatch(batch)).length;
    } catch (error) {
      if (!alreadyExists(error) && batch.length === 1) throw error;
      // One of the batch exists already (a cron restart racing the ingress): create the rest one by one.
      for (const item of batch) {
        try {
          await workflow.create(item);
          created++;
        } catch (inner) {
          if (!alreadyExists(inner)) throw inner;
        }
      }
    }
  }
  return created;
}

export interface RunStarterOptions {
  /** Flush once no delivery arrived for this long (ms). Default 250. */
  idleMs?: number;
  /** Flush at the latest this long after the first held start (ms), busy or not. Default 10 000 (< waitUntil's 30 s). */
  maxHoldMs?: number;
  /**
   * Pause between the chunks of one flush (ms). Default 100. Back to back, the `createBatch` calls of a 2,000-event
   * burst held the first run's Management API answer for 13 s in local workerd (instance set-up took the isolate's
   * turn); with the pause, runs started first call Logto while the rest are being created.
   */
  pauseMs?: number;
  now?: () => number;
}

/** Where the starter sends a flush: the Workflow binding and the journal (the latest a request handed over). */
export interface StarterTargets {
  workflow: Workflow<EventRunParams>;
  journal: Pick<Journal, 'settleClaimedElsewhere'>;
  /**
   * Readies what every run needs first — the Management API token — while deliveries are still being held, so a
   * burst's runs do not start on a cold token. Its failures are the runs' to report.
   */
  prepare?: () => Promise<unknown>;
}

/** Events per flush chunk: one `settleClaimedElsewhere` batch (a few D1 statements each), then one `createBatch`. */
const CHUNK = BATCH_LIMIT;

/**
 * Takes the claims the held events planned and starts runs only for the events that still have something to do:
 * the second event of a sign-up finds its actions claimed by the first and is marked done without a Workflow run (a
 * run per event would cost the engine's per-instance storage for nothing). Returns how many runs were created.
 */
async function claimAndStart(
  targets: StarterTargets,
  requests: readonly StartRequest[],
  pauseMs: number,
): Promise<number> {
  let created = 0;
  for (let i = 0; i < requests.length; i += CHUNK) {
    const chunk = requests.slice(i, i + CHUNK);
    const planned = chunk.flatMap((request) =>
      request.claims ? [{ eventKey: request.eventKey, claims: request.claims }] : [],
    );
    let settled = new Set<string>();
    try {
      if (planned.length > 0) settled = await targets.journal.settleClaimedElsewhere(planned);
    } catch (error) {
      // Start them all: each run claims for itself in its first step.
      console.error(`claiming before start failed, runs will claim: ${(error as Error).message}`);
    }
    created += await startRuns(
      targets.workflow,
      chunk.filter((request) => !settled.has(request.eventKey)),
    );
    if (i + CHUNK < requests.length) await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
  return created;
}

/**
 * Coalesces the starts of deliveries arriving at one isolate into `createBatch` calls, flushed when deliveries pause
 * (`idleMs`) or after `maxHoldMs`. At ordinary rates a run starts ~250 ms after its delivery is answered; during a burst
 * the isolate spends its CPU answering (each answer already durable in the journal) and starts the burst's runs
 * in batches right after, having first taken the events' claims ({@link claimAndStart}). If the isolate dies
 * first, the cron sweep starts them (status still `received`; each run then claims for itself).
 * Each caller gets the promise of the flush that covers its start, to hand to `waitUntil`.
 */
export function createRunStarter(options: RunStarterOptions = {}) {
  const idleMs = options.idleMs ?? 250;
  const maxHoldMs = options.maxHoldMs ?? 10_000;
  const pauseMs = options.pauseMs ?? 100;
  const now = options.now ?? Date.now;
  type Held = {
    targets: StarterTargets;
    entries: StartRequest[];
    since: number;
    done: Promise<void>;
    release: () => void;
    lastAt: number;
  };
  let held: Held | undefined;

  const flush = async (batch: Held) => {
    if (held !== batch) return;
    held = undefined;
    try {
      await claimAndStart(batch.targets, batch.entries, pauseMs);
    } catch (error) {
      // Not lost: the rows stay `received` and the cron sweep starts them.
      console.error(`workflow start failed, left for the cron sweep: ${(error as Error).message}`);
    } finally {
      batch.release();
    }
  };

  return (targets: StarterTargets, entry: StartRequest) => {
    if (!held) {
      let release = () => {};
      const done = new Promise<void>((resolve) => {
        release = resolve;
      });
      // Never in the way of the answer: a bad configuration or a token endpoint down is reported by the runs.
      const prepared = Promise.resolve()
        .then(() => targets.prepare?.())
        .catch(() => undefined);
      held = {
        targets,
        entries: [],
        since: now(),
        done: Promise.all([done, prepared]).then(() => undefined),
        release,
        lastAt: now(),
      };
    }
    const batch = held;
    // The runtime may hand each request its own binding objects: use the latest.
    batch.targets = targets;
    batch.entries.push(entry);
    batch.lastAt = now();
    if (batch.lastAt - batch.since >= maxHoldMs) void flush(batch);
    else {
      // Timers belong to the request that set them (another request cannot clear them), so each delivery sets its
      // own and the one that finds the isolate idle flushes.
      const check = () => {
        if (held !== batch) return;
        const idleFor = now() - batch.lastAt;
        if (idleFor >= idleMs || now() - batch.since >= maxHoldMs) void flush(batch);
        else setTimeout(check, idleMs - idleFor);
      };
      setTimeout(check, idleMs);
    }
    return batch.done;
  };
}
