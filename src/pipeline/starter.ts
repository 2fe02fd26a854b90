import { instanceIdOf, type JournalEntry } from '../journal';

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

/**
 * Coalesces the starts of concurrent deliveries in one isolate into `createBatch` calls: the first delivery opens a
 * short window, the others join it, one batch call starts them all. The journal row is already durable when a start
 * is queued; if the isolate dies before the flush, the cron restart picks the event up (status still `received`).
 * Each caller gets the flush promise, to hand to `waitUntil`.
 */
export function createRunStarter(windowMs = 5) {
  let pending: { workflow: Workflow<EventRunParams>; entries: JournalEntry[] } | undefined;
  let flushing: Promise<void> | undefined;
  const flush = async () => {
    const batch = pending;
    pending = undefined;
    flushing = undefined;
    if (!batch) return;
    try {
      await startRuns(batch.workflow, batch.entries);
    } catch (error) {
      // Not lost: the rows stay `received` and the cron restart starts them within a minute or two.
      console.error(`workflow start failed, left for the cron restart: ${(error as Error).message}`);
    }
  };
  return (workflow: Workflow<EventRunParams>, entry: Pick<JournalEntry, 'eventKey' | 'replays'>) => {
    if (pending && pending.workflow !== workflow) void flush();
    pending ??= { workflow, entries: [] };
    pending.entries.push(entry as JournalEntry);
    if (pending.entries.length >= BATCH_LIMIT) return flush();
    flushing ??= new Promise<void>((resolve) => setTimeout(resolve, windowMs)).then(flush);
    return flushing;
  };
}
