import type { Journal, JournalEntry, NewEvent } from '../journal';
import { log } from '../log';
import type { WakeOptions } from './starter';

/** Wakes the deployment's run starter (its Durable Object in production). */
export type WakeStarter = (options?: WakeOptions) => Promise<void>;

export interface EnqueueDeps {
  journal: Pick<Journal, 'events' | 'actions'>;
  wake: WakeStarter;
}

/** The fields every log line about an event starts with. */
export const eventFields = (
  eventKey: string,
  event: { eventType: string; source: string; subject?: string | null },
) => ({ eventKey, eventType: event.eventType, source: event.source, userId: event.subject ?? null });

/** What recording did: a new event (`start`: it is `received` and needs a run), or a duplicate. */
export type Recorded = { inserted: false } | { inserted: true; start: boolean };

/**
 * The one way work enters the engine — for Logto deliveries, callbacks, the sweeps, operators' replays and the cron
 * restart alike: **record** in the journal (the primary key is the dedupe: a duplicate stops here; a `received` row
 * is the run starter's queue), then **start**: wake the run starter, which **claims** the actions the automations
 * plan for a whole batch in one D1 batch and starts the runs of the events left with something to do.
 */
export function createEnqueue(deps: EnqueueDeps) {
  return {
    /** Records `event`; ingress wakes the starter after answering. */
    async record(event: NewEvent): Promise<Recorded> {
      const { inserted } = await deps.journal.events.record(event);
      log('info', inserted ? 'event.recorded' : 'event.duplicate', {
        ...eventFields(event.eventKey, event),
        status: inserted ? event.status : undefined,
        via: event.arrivedVia ?? 'delivered',
        code: inserted ? event.reason?.code : undefined,
      });
      return inserted ? { inserted, start: event.status === 'received' } : { inserted };
    },
    /** Wakes the starter; `immediate` when someone is waiting (an operator, a cron), else batched. */
    start: deps.wake,
    /** Records several events and starts the new ones at once (the sweeps). Returns the new ones. */
    async recordAndStart(events: readonly NewEvent[]): Promise<NewEvent[]> {
      const recorded: NewEvent[] = [];
      for (const event of events) if ((await this.record(event)).inserted) recorded.push(event);
      if (recorded.some((event) => event.status === 'received')) await this.start({ immediate: true });
      return recorded;
    },
    /** Re-opens finished events (a replay, or events covered by an owner that failed) and starts their runs. */
    async reopen(
      eventKeys: readonly string[],
      from?: Parameters<Journal['events']['reopen']>[1],
    ): Promise<{ reopened: JournalEntry[]; skipped: string[] }> {
      const reopened: JournalEntry[] = [];
      const skipped: string[] = [];
      for (const key of eventKeys) {
        const entry = await deps.journal.events.reopen(key, from);
        if (!entry) {
          skipped.push(key);
          continue;
        }
        // It runs again: what it left to others is decided anew.
        await deps.journal.actions.uncoverStatement(key).run();
        log('info', 'event.reopened', { ...eventFields(key, entry), run: entry.replays });
        reopened.push(entry);
      }
      if (reopened.length > 0) await this.start({ immediate: true });
      return { reopened, skipped };
    },
  };
}

export type Enqueue = ReturnType<typeof createEnqueue>;
