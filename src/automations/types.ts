import { AppError } from '../errors';
import type { DATA_EVENTS, EXCEPTION_EVENTS, INTERACTION_EVENTS, LogtoEvent } from '../events';
import type { LogtoClient, User } from '../logto-client';

/**
 * Thrown by an automation: by default a failure that retrying cannot fix (a role that does not exist, …); with
 * `retryable` the step is retried with backoff (something another event will soon provide).
 */
export class AutomationError extends AppError {
  override readonly name = 'AutomationError';
  constructor(code: string, message: string, options?: { retryable?: boolean }) {
    super(code, message, options);
  }
}

/** A Stripe event as delivered to `/callbacks/stripe` (only the fields the recipes read are typed). */
export interface StripeEvent {
  id: string;
  type: string;
  created: number;
  livemode?: boolean;
  data: { object: Record<string, unknown> & { id?: string; object?: string } };
  [field: string]: unknown;
}

/** A GitHub webhook delivery: the event name (`X-GitHub-Event`), delivery ID and payload. */
export interface GitHubEvent {
  name: string;
  delivery: string;
  payload: Record<string, unknown> & { action?: string };
}

/** A Standard Webhooks delivery (`webhook-id`, `webhook-timestamp`), payload as sent. */
export interface StandardWebhookEvent {
  id: string;
  timestamp: number;
  /** The payload's `type`, when it has one (Standard Webhooks recommends `{type, timestamp, data}`). */
  type?: string;
  payload: unknown;
}

/**
 * What a run processes: a Logto webhook, a user found by the reconciliation sweep or the cleanup, or a callback from
 * another SaaS. Stored as the journal's `source` + `raw_body` and parsed back by the Workflow.
 */
export type AutomationInput =
  | { source: 'logto'; event: LogtoEvent }
  | {
      source: 'reconcile';
      user: User;
      /**
       * How the user came, from Logto's audit log (`Interaction.Register.Submit`): a sign-up through that application,
       * or null (created through the Management API). Undefined on events journaled before this was looked up.
       */
      signUp?: { applicationId: string | null } | null;
      /**
       * Set by a filter scan (its pass's start): rules with `enforce` act again in each pass on a user out of
       * policy, even if they acted before (an admin's removal is undone). Undefined for the cursor sweep.
       */
      pass?: number;
    }
  | { source: 'cleanup'; user: User; action: 'suspend' | 'delete'; dryRun: boolean }
  | { source: 'stripe'; event: StripeEvent }
  | { source: 'github'; event: GitHubEvent }
  | { source: 'standard-webhooks'; event: StandardWebhookEvent };

export type AutomationSource = AutomationInput['source'];

/** A logger that prefixes the event and automation; never pass it a secret or a token. */
export interface AutomationLog {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** Options of one durable call. */
export interface CallOptions {
  /**
   * The call is not idempotent (creating an organization): each entry is recorded before Logto is called, and an
   * entry after an unknown outcome first waits until the earlier call can no longer commit, then runs with
   * `attempt.uncertain` so the call looks for what the earlier one made before making it again.
   */
  effect?: boolean;
}

/** Which attempt of a call this is; `uncertain` when an earlier attempt (or run) may have had its effect. */
export interface CallAttempt {
  number: number;
  uncertain: boolean;
}

/** What an automation gets to do its work durably. */
export interface AutomationContext {
  input: AutomationInput;
  eventKey: string;
  /** Dry-run: read what you need, change nothing in Logto, return what you would have done. */
  dryRun: boolean;
  /**
   * One Management API call (or a few reads) as its own durable step: retried with exponential backoff, a 429's
   * `Retry-After` honoured, 4xx that cannot succeed (404, 422, …) failing fast with Logto's error code. The result
   * must be JSON-serialisable; it is stored and not recomputed if the run resumes. Names must be unique in a run.
   */
  call<T>(
    name: string,
    fn: (logto: LogtoClient, attempt: CallAttempt) => Promise<T>,
    options?: CallOptions,
  ): Promise<T>;
  /**
   * True when this action was started before (by a failed event or an earlier run of this event): work that is not
   * naturally idempotent (creating an organization) must look for what the earlier attempt may have left.
   */
  resumed: boolean;
  log: AutomationLog;
  /**
   * External accounts linked to Logto users (a Stripe customer, a GitHub user ID), kept in D1 because Logto cannot
   * search customData or identities. Call these inside a `call` step so a lookup is retried with the step.
   */
  links: {
    find(provider: string, externalId: string): Promise<string | undefined>;
    save(provider: string, externalId: string, userId: string): Promise<void>;
  };
  /**
   * Ordering watermarks in D1 (never in data a user can write): `advance` moves the `scope`/`subject` watermark to
   * `position` for this event unless a later event holds it, and says whether this event may apply its change.
   */
  watermark: {
    advance(scope: string, subject: string, position: number): Promise<boolean>;
    current(scope: string, subject: string): Promise<number | undefined>;
  };
}

/** Every Logto webhook event name (logto-reference §1.1). */
export type LogtoEventName =
  | (typeof INTERACTION_EVENTS)[number]
  | (typeof DATA_EVENTS)[number]
  | (typeof EXCEPTION_EVENTS)[number];

export interface Automation {
  /** Stable name, shown in the journal. */
  name: string;
  /**
   * The Logto webhook events `wants()` can accept (none for callbacks, the sweep and the cleanup): the Logto webhook
   * pointing at this Worker subscribes to the union of them (`npm run connect`). A test checks that no other Logto
   * event is wanted, so the list cannot drift from `wants()`.
   */
  logtoEvents: readonly LogtoEventName[];
  wants(input: AutomationInput): boolean;
  /**
   * The action this automation performs for the input, claimed in the journal's ledger before it runs so it happens
   * once across events (one sign-up fires two events; the sweep may find the same user; a replay repeats the event).
   * Undefined: the automation runs for every event it wants (the journal still runs each event once).
   */
  actionKey?(input: AutomationInput): string | undefined;
  /** Returns a short JSON summary of what it did (or, in a dry run, would do). */
  run(ctx: AutomationContext): Promise<unknown>;
}
