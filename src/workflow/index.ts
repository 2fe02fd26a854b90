import { WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from 'cloudflare:workers';
import type { AutomationContext, AutomationInput } from '../automations';
import type { Journal, JournalEntry } from '../journal';
import type { LogtoClient } from '../logto-client';
import { inputOf } from '../pipeline/inputs';
import { type PlannedAutomation, planFor } from '../pipeline/plan';
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
 * Builds the Workflow class that processes one journaled event: load it, claim the actions of the automations that
 * want it and mark it running, run them (each Management API call its own step), then mark it done — or failed with
 * the reason — in one step that also completes the claimed actions. Dependencies are
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
      const pipeline = () => pipelines(env);
      const journal = () => pipeline().journal;

      // One step loads the event, marks it running and claims the actions of every automation that wants it (usually
      // one D1 round trip: the claims were taken before the run started) — or, when every action was already done or
      // is being done by another event, marks it done right there. (The second event of a sign-up usually gets no
      // run at all: the starter settles it.)
      const started = (await step.do('start', JOURNAL_STEP, async () => {
        const { automations, dryRun } = pipeline();
        let planned: PlannedAutomation[] = [];
        let parsed: ReturnType<typeof inputOf> | undefined;
        const { entry, claims } = await journal().beginRun(eventKey, (read) => {
          parsed = inputOf(read);
          if (!parsed.ok) return undefined;
          planned = planFor(automations, parsed.input, dryRun);
          return planned.flatMap((automation) => (automation.actionKey ? [automation.actionKey] : []));
        });
        if (!entry) return { state: 'skipped', reason: 'event not in the journal' } as never;
        if (entry.status !== 'received' && entry.status !== 'running') {
          return { state: 'skipped', reason: `event already ${entry.status}` } as never;
        }
        if (!parsed?.ok) {
          const reason = parsed?.reason ?? 'not parsed';
          await journal().markFailed(eventKey, { code: 'invalid_payload', message: reason });
          return { state: 'failed', code: 'invalid_payload', message: reason } as never;
        }
        const plan: RunPlan[] = [];
        const skipped: Record<string, unknown> = {};
        for (const { name, actionKey } of planned) {
          const claim = (actionKey && claims.get(actionKey)) || {
            act: true as const,
            resumed: entry.attempts > 0,
          };
          if (claim.act) plan.push({ name, actionKey, resumed: claim.resumed });
          else skipped[name] = { skipped: true, reason: `already ${claim.status} by event ${claim.by}` };
        }
        if (plan.length === 0) {
          await journal().markDone(eventKey, skipped);
          return { state: 'done', results: skipped } as never;
        }
        const { source, eventType, rawBody, externalId, receivedAt } = entry;
        return {
          state: 'run',
          plan,
          skipped,
          entry: { source, eventType, rawBody, externalId, receivedAt },
          dryRun,
        } satisfies StartOutcome as never;
      })) as StartOutcome;
      if (started.state === 'skipped') return { status: 'skipped', reason: started.reason };
      if (started.state === 'failed')
        return { status: 'failed', code: started.code, message: started.message };
      if (started.state === 'done') return { status: 'done', results: started.results };

      const results: Record<string, unknown> = { ...started.skipped };
      const done: { actionKey: string; detail: unknown }[] = [];

      const settle = async (failure?: Pick<StepFailure, 'code' | 'message'>): Promise<RunResult> => {
        // One step completes the actions that succeeded and records the outcome.
        await step.do(failure ? 'mark failed' : 'mark done', JOURNAL_STEP, () =>
          journal().finishRun(eventKey, { actions: done, failure, result: results }),
        );
        if (!failure) return { status: 'done', results };
        console.error(`event ${eventKey.slice(0, 12)} failed: ${failure.code}`);
        return { status: 'failed', code: failure.code, message: failure.message };
      };

      const parsed = inputOf(started.entry);
      if (!parsed.ok) return settle({ code: 'invalid_payload', message: parsed.reason });
      const automations = new Map(pipeline().automations.map((automation) => [automation.name, automation]));
      for (const planned of started.plan) {
        const automation = automations.get(planned.name);
        if (!automation)
          return settle({ code: 'config', message: `automation ${planned.name} is no longer configured` });
        const ctx = contextFor(
          planned,
          parsed.input,
          eventKey,
          started.dryRun,
          step,
          () => services(env).logto,
          journal,
        );
        try {
          const detail = await automation.run(ctx);
          results[planned.name] = started.dryRun ? { dryRun: true, wouldDo: detail } : detail;
          if (planned.actionKey) done.push({ actionKey: planned.actionKey, detail });
        } catch (error) {
          const failure = error instanceof RunFailed ? error.failure : classifyFailure(error);
          results[planned.name] = { failed: failure.code };
          return settle(failure);
        }
      }
      return settle();
    }
  };
}

/** An automation the run acts for, with its claimed action and whether earlier work for it may exist. */
interface RunPlan extends PlannedAutomation {
  resumed: boolean;
}

type StartOutcome =
  | { state: 'skipped'; reason: string }
  | { state: 'failed'; code: string; message: string }
  | { state: 'done'; results: Record<string, unknown> }
  | {
      state: 'run';
      plan: RunPlan[];
      skipped: Record<string, unknown>;
      entry: Pick<JournalEntry, 'source' | 'eventType' | 'rawBody' | 'externalId' | 'receivedAt'>;
      dryRun: boolean;
    };

/** The context one automation runs with: each `call` is a durable step named after the automation. */
function contextFor(
  { name: automationName, resumed }: RunPlan,
  input: AutomationInput,
  eventKey: string,
  dryRun: boolean,
  step: WorkflowStep,
  logto: () => LogtoClient,
  journal: () => Pick<Journal, 'link' | 'linkedUser'>,
): AutomationContext {
  const prefix = `[${automationName}] event ${eventKey.slice(0, 12)}:`;
  return {
    input,
    eventKey,
    dryRun,
    resumed,
    links: {
      find: (provider, externalId) => journal().linkedUser(provider, externalId),
      save: (provider, externalId, userId) => journal().link(provider, externalId, userId),
    },
    log: {
      info: (message) => console.log(prefix, message),
      warn: (message) => console.warn(prefix, message),
      error: (message) => console.error(prefix, message),
    },
    async call<T>(name: string, fn: (logto: LogtoClient, attempt: { number: number }) => Promise<T>) {
      const stepName = `${automationName}: ${name}`;
      for (let attempt = 1; ; attempt++) {
        const outcome = (await step.do(
          `${stepName} #${attempt}`,
          { retries: { limit: 0, delay: 0 }, timeout: '5 minutes' },
          async () => {
            try {
              return { ok: true, value: (await fn(logto(), { number: attempt })) as unknown } as never;
            } catch (error) {
              return { ok: false, failure: classifyFailure(error) } as never;
            }
          },
        )) as { ok: true; value: T } | { ok: false; failure: StepFailure };
        if (outcome.ok) return outcome.value;
        const { failure } = outcome;
        if (!failure.retryable || attempt >= MAX_CALL_ATTEMPTS) throw new RunFailed(failure);
        await step.sleep(`${stepName} #${attempt} backoff`, failure.retryAfterMs ?? stepBackoffMs(attempt));
      }
    },
  };
}
