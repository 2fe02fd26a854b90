import type {
  Automation,
  AutomationContext,
  AutomationInput,
  AutomationLog,
  GitHubEvent,
  LogtoEventName,
  StandardWebhookEvent,
  StripeEvent,
} from '../automations';
import {
  DATA_EVENTS,
  type EntityEvent,
  EXCEPTION_EVENTS,
  type ExceptionEvent,
  INTERACTION_EVENTS,
  type InteractionEvent,
  type MembershipEvent,
  type UserDataUpdatedEvent,
  type UserEvent,
} from '../events';
import type { LogtoClient, User } from '../logto-client';
import { handlerViewOf } from '../sources';

export type { LogtoEventName } from '../automations';

/**
 * Every Logto webhook event name, in Logto's order (logto-reference §1.1). Marked pure so that a bundle using neither
 * {@link defineAutomation} nor `logtoEventsOf` (the deployed Worker) drops it: an array spread is not.
 */
export const LOGTO_EVENT_NAMES: readonly LogtoEventName[] = /* @__PURE__ */ [
  INTERACTION_EVENTS,
  DATA_EVENTS,
  EXCEPTION_EVENTS,
].flat();

/**
 * What a handler subscribes to: a Logto event name (`PostRegister`, `User.Created`, …), `stripe:<type>`,
 * `github:<event>` or `github:<event>.<action>`, `webhook:<type>` (Standard Webhooks), `reconcile` (a user the sweep
 * found); `stripe:*`, `github:*`, `webhook:*` match every event of that source.
 */
export type HandlerEventName =
  | LogtoEventName
  | `stripe:${string}`
  | `github:${string}`
  | `webhook:${string}`
  | 'reconcile';

/** The event a handler receives for a subscription name. */
export type HandlerEvent<N extends string> = N extends `stripe:${string}`
  ? StripeEvent
  : N extends `github:${string}`
    ? GitHubEvent
    : N extends `webhook:${string}`
      ? StandardWebhookEvent
      : N extends 'reconcile'
        ? { event: 'reconcile'; user: User }
        : LogtoEventOf<N>;

/** The typed payload of a Logto event name. */
export type LogtoEventOf<N extends string> = N extends (typeof INTERACTION_EVENTS)[number]
  ? InteractionEvent & { event: N }
  : N extends 'User.Created' | 'User.Deleted' | 'User.SuspensionStatus.Updated'
    ? UserEvent & { event: N }
    : N extends 'User.Data.Updated'
      ? UserDataUpdatedEvent
      : N extends 'Organization.Membership.Updated'
        ? MembershipEvent
        : N extends (typeof EXCEPTION_EVENTS)[number]
          ? ExceptionEvent & { event: N }
          : EntityEvent & { event: N };

/** A client group whose every method is one durable step; listing methods resolve to arrays. */
type DurableGroup<G> = {
  [K in keyof G]: G[K] extends (...args: infer A) => AsyncIterable<infer T>
    ? (...args: A) => Promise<T[]>
    : G[K] extends (...args: infer A) => Promise<infer R>
      ? (...args: A) => Promise<Awaited<R>>
      : G[K] extends object
        ? DurableGroup<G[K]>
        : never;
};
/** The Management API client as a handler sees it: each call is its own durable step (retries, backoff, journal). */
export type DurableLogto = DurableGroup<Omit<LogtoClient, 'request'>>;

export interface HandlerTools {
  logto: DurableLogto;
  log: AutomationLog;
  dryRun: boolean;
  eventKey: string;
  /** For several calls (or a read-then-write) that must be one step. */
  step: AutomationContext['call'];
}

export interface HandlerDefinition<N extends HandlerEventName> {
  /** Unique; names the handler in the journal (lowercase letters, digits, dashes). */
  name: string;
  on: readonly N[];
  /**
   * Optional: acts once per returned key across events (e.g. the user ID: both events of a sign-up, a replay and the
   * sweep then act once). Without it the handler runs once per event.
   */
  once?: (event: HandlerEvent<N>) => string | undefined;
  run: (event: HandlerEvent<N>, tools: HandlerTools) => Promise<unknown>;
}

/** Wraps the client so that every method call is one durable step named `<group>.<method> #<n>`. */
function durableLogto(ctx: AutomationContext): DurableLogto {
  let counter = 0;
  const wrap = (path: string[]): unknown =>
    new Proxy(() => {}, {
      get: (_, key) => (typeof key === 'string' ? wrap([...path, key]) : undefined),
      apply: (_, __, args: unknown[]) =>
        ctx.call(`${path.join('.')} #${++counter}`, async (logto) => {
          let target: unknown = logto;
          for (const key of path.slice(0, -1)) target = (target as Record<string, unknown>)[key];
          const method = (target as Record<string, (...a: unknown[]) => unknown>)[
            path[path.length - 1] ?? ''
          ];
          if (typeof method !== 'function') throw new TypeError(`logto.${path.join('.')} is not a method`);
          const result = method.apply(target, args);
          if (result && typeof result === 'object' && Symbol.asyncIterator in result) {
            const items: unknown[] = [];
            for await (const item of result as AsyncIterable<unknown>) items.push(item);
            return items;
          }
          return (await result) ?? null;
        }),
    });
  return wrap([]) as DurableLogto;
}

/**
 * A custom handler in a few lines, run by the same durable pipeline as the recipes: the event verified and
 * journaled, each Management API call a step with retries and backoff, the outcome in the journal.
 *
 * @example
 * export const welcome = defineAutomation({
 *   name: 'welcome-stamp',
 *   on: ['PostRegister'],
 *   once: (event) => event.userId,
 *   run: async (event, { logto }) => logto.users.mergeCustomData(event.userId!, { welcomed: true }),
 * });
 */
export function defineAutomation<const N extends HandlerEventName>(
  definition: HandlerDefinition<N>,
): Automation {
  const handled = (input: AutomationInput) => {
    const seen = handlerViewOf(input);
    return seen?.names.some((name) => (definition.on as readonly string[]).includes(name)) ? seen : undefined;
  };
  return {
    name: definition.name,
    // The Logto names among `on` (the others name callbacks and the sweep, which need no Logto webhook).
    logtoEvents: LOGTO_EVENT_NAMES.filter((name) => (definition.on as readonly string[]).includes(name)),
    wants: (input) => handled(input) !== undefined,
    actionKey: (input) => {
      const seen = handled(input);
      const key = seen && definition.once?.(seen.event as HandlerEvent<N>);
      return key ? `${definition.name}:${key}` : undefined;
    },
    async run(ctx) {
      const seen = handled(ctx.input);
      if (!seen) return { skipped: true };
      const result = await definition.run(seen.event as HandlerEvent<N>, {
        logto: durableLogto(ctx),
        log: ctx.log,
        dryRun: ctx.dryRun,
        eventKey: ctx.eventKey,
        step: ctx.call,
      });
      return result ?? null;
    },
  };
}
