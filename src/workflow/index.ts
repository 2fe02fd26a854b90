import { WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from 'cloudflare:workers';
import type { AutomationInput } from '../automations';
import { createPipelineProvider, createServiceProvider, type ServiceDeps } from '../composition';
import type { JournalEntry } from '../journal';
import { log } from '../log';
import {
  beginRun,
  coverWrites,
  type EventRunParams,
  eventFields,
  finishRun,
  type LeftTo,
  type PlannedAutomation,
} from '../pipeline';
import { inputOf } from '../sources';
import { createCallContext } from './call';
import { classifyFailure, type StepFailure } from './failures';

export { MAX_CALL_ATTEMPTS, stepBackoffMs } from './backoff';
export { classifyFailure, type StepFailure } from './failures';

/** Journal reads and writes: D1 errors are transient, the engine's own retries suffice. */
const JOURNAL_STEP = {
  retries: { limit: 5, delay: '1 second', backoff: 'exponential' },
  timeout: '1 minute',
} as const;

export type RunResult =
  | { status: 'done'; results: Record<string, unknown> }
  | { status: 'covered'; by: string }
  | { status: 'failed'; code: string; message: string }
  | { status: 'skipped'; reason: string };

/** An automation the run acts for, with its claimed action and whether earlier work for it may exist. */
interface RunPlan extends PlannedAutomation {
  resumed: boolean;
}

type StartOutcome =
  | { state: 'skipped'; reason: string }
  | { state: 'failed'; code: string; message: string }
  | { state: 'covered'; by: string }
  | { state: 'done'; results: Record<string, unknown> }
  | {
      state: 'run';
      plan: RunPlan[];
      left: LeftTo[];
      entry: Pick<
        JournalEntry,
        'source' | 'eventType' | 'rawBody' | 'externalId' | 'receivedAt' | 'replays' | 'subject' | 'attempts'
      >;
      dryRun: boolean;
    };

/**
 * Builds the Workflow class that processes one journaled event: load it, claim the actions of the automations that
 * want it and mark it running (one step), run them (each Management API call its own step), then finish in one step
 * that completes the claimed actions and records `done` — or `failed` with the reason. An event whose every action
 * another event holds is `covered` by it. Dependencies are injected like {@link createApp}'s so tests point it at the
 * Logto emulator.
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

      const started = (await step.do(
        'start',
        JOURNAL_STEP,
        async () => (await start(pipeline(), eventKey)) as never,
      )) as StartOutcome;
      if (started.state !== 'run') {
        // Settled in the first step: the run's result is that outcome, `state` named `status`.
        const { state, ...outcome } = started;
        return { status: state, ...outcome } as RunResult;
      }

      const results: Record<string, unknown> = {};
      const done: { actionKey: string; detail: unknown }[] = [];
      const settle = async (
        failure?: Pick<StepFailure, 'code' | 'message'>,
        automation?: string,
      ): Promise<RunResult> => {
        await step.do(failure ? 'mark failed' : 'mark done', JOURNAL_STEP, async () => {
          await finishRun(journal(), eventKey, { done, left: started.left, failure, result: results });
          // Logged inside the step: the run function itself is replayed when the engine resumes it.
          const { entry } = started;
          log(failure ? 'error' : 'info', failure ? 'event.failed' : 'event.done', {
            ...eventFields(eventKey, entry),
            automation,
            code: failure?.code,
            attempt: entry.attempts,
            run: entry.replays,
            latencyMs: Date.now() - entry.receivedAt,
          });
        });
        if (!failure) return { status: 'done', results };
        return { status: 'failed', code: failure.code, message: failure.message };
      };
      for (const left of started.left)
        results[left.automation] = { skipped: true, reason: `already ${left.status} by event ${left.by}` };

      const parsed = inputOf(started.entry);
      if (!parsed.ok) return settle({ code: 'invalid_payload', message: parsed.reason });
      const automations = new Map(pipeline().automations.map((automation) => [automation.name, automation]));
      for (const planned of started.plan) {
        const automation = automations.get(planned.name);
        if (!automation)
          return settle(
            { code: 'config', message: `automation ${planned.name} is no longer configured` },
            planned.name,
          );
        const ctx = createCallContext({
          automation: planned.name,
          actionKey: planned.actionKey,
          resumed: planned.resumed,
          input: parsed.input as AutomationInput,
          eventKey,
          dryRun: started.dryRun,
          step,
          logto: () => services(env).logto,
          journal,
          settleMs: () => 3 * services(env).config.apiTimeoutMs,
          now: deps.now ?? Date.now,
          run: started.entry.replays,
        });
        try {
          const detail = await automation.run(ctx.context);
          results[planned.name] = started.dryRun ? { dryRun: true, wouldDo: detail } : detail;
          if (planned.actionKey) done.push({ actionKey: planned.actionKey, detail });
        } catch (error) {
          const failure = ctx.failureOf(error) ?? classifyFailure(error);
          results[planned.name] = { failed: failure.code };
          return settle(failure, planned.name);
        }
      }
      return settle();
    }
  };
}

/**
 * The run's first step: one atomic D1 batch reads the event and the claims it took before its run and marks it
 * running; the plan is rebuilt from the journal row; when every action is held by another event the event is
 * recorded `covered` right there.
 */
async function start(
  pipeline: ReturnType<ReturnType<typeof createPipelineProvider>>,
  eventKey: string,
): Promise<StartOutcome> {
  const { dryRun, journal } = pipeline;
  let planned: PlannedAutomation[] = [];
  let parsed: ReturnType<typeof inputOf> | undefined;
  const { entry, claims } = await beginRun(journal, eventKey, (read) => {
    parsed = inputOf(read);
    if (!parsed.ok) return undefined;
    planned = pipeline.plan(parsed.input);
    return planned.flatMap((automation) => (automation.actionKey ? [automation.actionKey] : []));
  });
  if (!entry) return { state: 'skipped', reason: 'event not in the journal' };
  if (entry.status !== 'received' && entry.status !== 'running')
    return { state: 'skipped', reason: `event already ${entry.status}` };
  if (!parsed?.ok) {
    const reason = parsed?.reason ?? 'not parsed';
    await finishRun(journal, eventKey, {
      done: [],
      left: [],
      failure: { code: 'invalid_payload', message: reason },
      result: null,
    });
    return { state: 'failed', code: 'invalid_payload', message: reason };
  }
  const plan: RunPlan[] = [];
  const left: LeftTo[] = [];
  const doneBefore: Record<string, unknown> = {};
  for (const { name, actionKey } of planned) {
    const claim = (actionKey && claims.get(actionKey)) || { act: true as const, resumed: entry.attempts > 0 };
    if (claim.act) plan.push({ name, actionKey, resumed: claim.resumed });
    // Done by this very event in an earlier run (a replay): nothing to do, and nobody else to be covered by.
    else if (claim.by === eventKey)
      doneBefore[name] = { skipped: true, reason: 'already done by this event' };
    else if (actionKey) left.push({ automation: name, actionKey, by: claim.by, status: claim.status });
  }
  const fields = { ...eventFields(eventKey, entry), attempt: entry.attempts };
  if (plan.length === 0 && left.length > 0) {
    await journal.batch(coverWrites(journal, eventKey, left, ['running'], doneBefore));
    log('info', 'event.covered', { ...fields, by: left[0]?.by });
    return { state: 'covered', by: left[0]?.by ?? '' };
  }
  if (plan.length > 0)
    log('info', 'event.running', { ...fields, automations: plan.map((item) => item.name) });
  if (plan.length === 0 && Object.keys(doneBefore).length > 0) {
    await finishRun(journal, eventKey, { done: [], left: [], result: doneBefore });
    return { state: 'done', results: doneBefore };
  }
  const { source, eventType, rawBody, externalId, receivedAt, replays, subject, attempts } = entry;
  return {
    state: 'run',
    plan,
    left,
    entry: { source, eventType, rawBody, externalId, receivedAt, replays, subject, attempts },
    dryRun,
  };
}
