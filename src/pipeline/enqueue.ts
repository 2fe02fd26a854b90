import type { Journal, JournalEntry, NewEvent } from '../journal';
import type { PlannedClaim } from './claims';
import { claimsBeforeStart, type PlannedAutomation } from './plan';
import type { StartRequest } from './starter';

/** Hands runs to the deployment's run starter (its Durable Object in production). */
export type StartRuns = (
  requests: readonly StartRequest[],
  options?: { immediate?: boolean },
) => Promise<void>;

export interface EnqueueDeps {
  journal: Pick<Journal, 'events' | 'actions'>;
  start: StartRuns;
}

/** What recording did: a new event (with the run to start when it is `received`), or a duplicate. */
export type Recorded = { inserted: false } | { inserted: true; start?: StartRequest };

/**
 * The one way work enters the engine — for Logto deliveries, callbacks, the sweeps, operators' replays and the cron
 * restart alike: **record** in the journal (the primary key is the dedupe: a duplicate stops here), **claim** the
 * actions the plan names (taken by the run starter for a whole batch, or by the run itself), **start** a run through
 * the starter, which owns the batch.
 */
export function createEnqueue(deps: EnqueueDeps) {
  return {
    /**
     * Records `event`. A new `received` event comes back with its start request (claims planned from `plan`) for
     * {@link start}; ingress hands it over after answering.
     */
    async record(event: NewEvent, plan: readonly PlannedAutomation[] = []): Promise<Recorded> {
      const { inserted } = await deps.journal.events.record(event);
      if (!inserted) return { inserted: false };
      if (event.status !== 'received') return { inserted: true };
      const start: StartRequest = { eventKey: event.eventKey, replays: 0 };
      const claims: PlannedClaim[] | undefined = claimsBeforeStart(plan);
      if (claims) start.claims = claims;
      return { inserted: true, start };
    },
    /** Hands runs to the starter; `immediate` when someone is waiting (an operator, a cron), else batched. */
    start(requests: readonly StartRequest[], options: { immediate?: boolean } = {}): Promise<void> {
      return requests.length === 0 ? Promise.resolve() : deps.start(requests, options);
    },
    /** Records several events and starts the new ones at once (the sweeps). Returns the new ones. */
    async recordAndStart(
      events: readonly { event: NewEvent; plan?: readonly PlannedAutomation[] }[],
    ): Promise<NewEvent[]> {
      const recorded: NewEvent[] = [];
      const starts: StartRequest[] = [];
      for (const { event, plan } of events) {
        const outcome = await this.record(event, plan);
        if (!outcome.inserted) continue;
        recorded.push(event);
        if (outcome.start) starts.push(outcome.start);
      }
      await this.start(starts, { immediate: true });
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
        reopened.push(entry);
      }
      await this.start(
        reopened.map((entry) => ({ eventKey: entry.eventKey, replays: entry.replays })),
        { immediate: true },
      );
      return { reopened, skipped };
    },
  };
}

export type Enqueue = ReturnType<typeof createEnqueue>;
