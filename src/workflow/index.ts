import { WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from 'cloudflare:workers';
import type { AutomationContext } from '../automations';
import { parseLogtoEvent } from '../events';
import type { EventRunParams } from '../pipeline/starter';
import { createPipelineProvider, createServiceProvider, type ServiceDeps } from '../services';
import { classifyFailure, type StepFailure } from './failures';

export { classifyFailure, type StepFailure } from './failures';

/** Attempts per Management API step before the event is `failed` (backoff 2 s doubling to 5 min: ~13 min in all). */
export const MAX_CALL_ATTEMPTS = 10;
const BASE_BACKOFF_MS = 2_000;
const MAX_BACKOFF_MS = 5 * 60_000;
/** Journal reads and writes: D1 errors are transient, the engine's own retries suffice. */
const JOURNAL_STEP = {
  retries: { limit: 5, delay: '1 second', backoff: 'exponential' },
  timeout: '1 minute',
} as const;

/** Deterministic (no jitter): a resumed run must take the same path. */
export const stepBackoffMs = (attempt: number) =>
  Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** (attempt - 1));

/** Thrown out of `ctx.call` when a call cannot succeed or its attempts are exhausted. */
class RunFailed extends Error {
  constructor(readonly failure: StepFailure) {
    super(failure.message);
  }
}

export type RunResult =
  | { status: 'done'; results: Record<string, unknown> }
  | { status: 'failed'; code: string; message: string }
  | { status: 'skipped'; reason: string };

/**
 * Builds the Workflow class that processes one journaled event: load it, mark it running, run every automation that
 * wants it (each Management API call its own step), then mark it done — or failed with the reason. Dependencies are
 * injected like {@link createApp}'s so tests point it at the Logto emulator.
 */
export function createEventWorkflow(deps: ServiceDeps = {}) {
  const services = createServiceProvider(deps);
  const pipelines = createPipelineProvider(deps);

  return class LogtoEventWorkflow extends WorkflowEntrypoint<Env, EventRunParams> {
    override async run(
      event: Readonly<WorkflowEvent<EventRunParams>>,
      step: WorkflowStep,
    ): Promise<RunResult> {
      const { eventKey } = event.payload;
      const env = this.env;
      const journal = () => pipelines(env).journal;
      // One step loads the event and marks it running (one fewer durable write per run).
      const loaded = await step.do('start', JOURNAL_STEP, async () => {
        const entry = await journal().get(eventKey);
        if (!entry) return null;
        if (entry.status === 'received' || entry.status === 'running') await journal().markRunning(eventKey);
        return { status: entry.status, rawBody: entry.rawBody };
      });
      if (!loaded) return { status: 'skipped', reason: 'event not in the journal' };
      if (loaded.status !== 'received' && loaded.status !== 'running') {
        return { status: 'skipped', reason: `event already ${loaded.status}` };
      }

      const fail = async (failure: Pick<StepFailure, 'code' | 'message'>): Promise<RunResult> => {
        await step.do('mark failed', JOURNAL_STEP, () => journal().markFailed(eventKey, failure));
        console.error(`event ${eventKey.slice(0, 12)} failed: ${failure.code}`);
        return { status: 'failed', code: failure.code, message: failure.message };
      };
      const parsed = parseLogtoEvent(JSON.parse(loaded.rawBody));
      if (!parsed.ok) return fail({ code: 'invalid_payload', message: parsed.reason });

      const ctx: AutomationContext = {
        event: parsed.event,
        eventKey,
        async call<T>(name: string, fn: (logto: ReturnType<typeof services>['logto']) => Promise<T>) {
          for (let attempt = 1; ; attempt++) {
            const outcome = (await step.do(
              `${name} #${attempt}`,
              { retries: { limit: 0, delay: 0 }, timeout: '5 minutes' },
              async () => {
                try {
                  return { ok: true, value: (await fn(services(env).logto)) as unknown } as never;
                } catch (error) {
                  return { ok: false, failure: classifyFailure(error) } as never;
                }
              },
            )) as { ok: true; value: T } | { ok: false; failure: StepFailure };
            if (outcome.ok) return outcome.value;
            const { failure } = outcome;
            if (!failure.retryable || attempt >= MAX_CALL_ATTEMPTS) throw new RunFailed(failure);
            await step.sleep(`${name} #${attempt} backoff`, failure.retryAfterMs ?? stepBackoffMs(attempt));
          }
        },
        claim: (actionKey) =>
          step.do(`claim ${actionKey}`, JOURNAL_STEP, () => journal().claimAction(actionKey, eventKey)),
        complete: (actionKey, detail) =>
          step.do(`complete ${actionKey}`, JOURNAL_STEP, () =>
            journal().completeAction(actionKey, eventKey, detail),
          ),
      };

      const results: Record<string, unknown> = {};
      try {
        for (const automation of pipelines(env).automations) {
          if (automation.wants(parsed.event)) results[automation.name] = await automation.run(ctx);
        }
      } catch (error) {
        return fail(error instanceof RunFailed ? error.failure : classifyFailure(error));
      }
      await step.do('mark done', JOURNAL_STEP, () => journal().markDone(eventKey));
      return { status: 'done', results: results as never };
    }
  };
}
