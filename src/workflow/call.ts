import type { WorkflowStep } from 'cloudflare:workers';
import type { AutomationContext, AutomationInput, CallOptions } from '../automations';
import type { Journal } from '../journal';
import { type LogLevel, log } from '../log';
import type { LogtoClient } from '../logto-client';
import { MAX_CALL_ATTEMPTS, stepBackoffMs } from './backoff';
import { classifyFailure, type StepFailure } from './failures';

/** Waits (governor, settling effect) one call may do before the run gives up: each is a durable sleep. */
const MAX_WAITS = 500;
/** One attempt of one call: its inline retries, a governor wait and the timeouts fit well inside. */
const CALL_STEP = { retries: { limit: 0, delay: 0 }, timeout: '5 minutes' } as const;

/** Thrown out of `ctx.call` when a call cannot succeed or its attempts are exhausted. */
class RunFailed extends Error {
  constructor(readonly failure: StepFailure) {
    super(failure.message);
  }
}

type Outcome<T> = { ok: true; value: T } | { ok: false; failure: StepFailure };

export interface CallContextOptions {
  automation: string;
  actionKey?: string;
  resumed: boolean;
  input: AutomationInput;
  eventKey: string;
  dryRun: boolean;
  step: WorkflowStep;
  logto: () => LogtoClient;
  journal: () => Journal;
  /** How long an uncertain effect may still commit on Logto's side after its call was given up (ms). */
  settleMs: () => number;
  /** The journal's clock (effect entries are stamped with it). */
  now: () => number;
  /** The run (the event's replay count), recorded with each call in the timeline. */
  run?: number;
}

/**
 * The context one automation runs with. `call` is the durable unit: one `step.do` per attempt with the engine's
 * retries off, its result a value (error objects do not survive a step boundary). Retryable failures sleep durably
 * (`Retry-After` if Logto gave one, else 2 s doubling to 5 min) up to {@link MAX_CALL_ATTEMPTS}; a step that itself
 * times out or dies is retried the same way (its outcome is unknown); waits for the rate governor do not count as
 * attempts. A call marked `effect` (not idempotent) records each entry in D1 before calling Logto, so an attempt
 * after an unknown outcome — even one the engine re-runs after a crash, whose attempt number restarts — knows it is
 * uncertain, first waits until the earlier call can no longer commit, and then looks before it acts.
 */
export function createCallContext(options: CallContextOptions) {
  const { automation, step, eventKey } = options;
  const effectKeyOf = (name: string) => `${options.actionKey ?? `${eventKey}:${automation}`}:${name}`;

  async function attemptOnce<T>(
    name: string,
    stepName: string,
    fn: Parameters<AutomationContext['call']>[1],
    attempt: number,
    callOptions: CallOptions,
  ): Promise<Outcome<T>> {
    let uncertain = attempt > 1 || options.resumed;
    let entered: { key: string; at: number } | undefined;
    if (callOptions.effect) {
      const key = effectKeyOf(name);
      const actions = options.journal().actions;
      const last = await actions.lastEffectEntry(key);
      if (last !== null) {
        uncertain = true;
        const settling = last + options.settleMs() - options.now();
        if (settling > 0) {
          const message = `an earlier attempt may still commit on Logto's side; looking in ${settling} ms`;
          return {
            ok: false,
            failure: {
              code: 'effect_settling',
              message,
              retryable: true,
              retryAfterMs: settling,
              wait: true,
            },
          };
        }
      }
      entered = { key, at: (await actions.enterEffect(key)).at };
    }
    const startedAt = Date.now();
    const record = async (outcome: 'ok' | 'error', failure?: StepFailure) => {
      try {
        await options.journal().timeline.record({
          eventKey,
          run: options.run ?? 0,
          step: stepName,
          attempt,
          outcome,
          code: failure?.code ?? null,
          httpStatus: failure?.status ?? null,
          startedAt: options.now(),
          durationMs: Date.now() - startedAt,
        });
      } catch {
        // History only: the call's outcome stands without it.
      }
    };
    try {
      const value = (await fn(options.logto(), { number: attempt, uncertain })) as T;
      await record('ok');
      return { ok: true, value };
    } catch (error) {
      const failure = classifyFailure(error);
      // A wait for the governor means this attempt's call never left: nothing about it is uncertain.
      if (failure.wait) {
        if (entered) await options.journal().actions.leaveEffect(entered.key, entered.at);
      } else await record('error', failure);
      return { ok: false, failure };
    }
  }

  const links = () => options.journal().links;
  const logAt = (level: LogLevel) => (message: string) =>
    log(level, 'automation.log', { eventKey, automation, message });

  const context: AutomationContext = {
    input: options.input,
    eventKey,
    dryRun: options.dryRun,
    resumed: options.resumed,
    links: {
      find: (provider, externalId) => links().linkedUser(provider, externalId),
      save: (provider, externalId, userId) => links().link(provider, externalId, userId),
    },
    watermark: {
      advance: (scope, subject, position) => links().advance(scope, subject, position, eventKey),
      current: async (scope, subject) => (await links().watermark(scope, subject))?.position,
    },
    log: { info: logAt('info'), warn: logAt('warn'), error: logAt('error') },
    async call<T>(name: string, fn: Parameters<AutomationContext['call']>[1], callOptions: CallOptions = {}) {
      const stepName = `${automation}: ${name}`;
      for (let attempt = 1, waits = 0; ; ) {
        const label = `${stepName} #${attempt}${waits === 0 ? '' : `.${waits}`}`;
        let outcome: Outcome<T>;
        try {
          outcome = (await step.do(
            label,
            CALL_STEP,
            () => attemptOnce<T>(name, stepName, fn, attempt, callOptions) as never,
          )) as Outcome<T>;
        } catch (error) {
          // The step itself timed out or died: the call's outcome is unknown. Retried like a 5xx.
          const message = `the step ended without a result (${error instanceof Error ? error.name : 'error'})`;
          outcome = { ok: false, failure: { code: 'step_timeout', message, retryable: true } };
        }
        if (outcome.ok) return outcome.value;
        const { failure } = outcome;
        if (failure.wait) {
          if (++waits > MAX_WAITS) throw new RunFailed({ ...failure, retryable: false });
          await step.sleep(`${label} wait`, Math.max(1, failure.retryAfterMs ?? 1_000));
          continue;
        }
        if (!failure.retryable || attempt >= MAX_CALL_ATTEMPTS) throw new RunFailed(failure);
        await step.sleep(`${label} backoff`, failure.retryAfterMs ?? stepBackoffMs(attempt));
        attempt++;
        waits = 0;
      }
    },
  };
  return {
    context,
    /** The failure a `call` gave up with, when `error` is one. */
    failureOf: (error: unknown) => (error instanceof RunFailed ? error.failure : undefined),
  };
}
