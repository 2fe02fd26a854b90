import type { LogtoEvent } from '../events';
import type { ActionClaim } from '../journal';
import type { LogtoClient } from '../logto-client';

/** Thrown by an automation for a failure that retrying cannot fix (a role that does not exist, …). */
export class AutomationError extends Error {
  override readonly name = 'AutomationError';
  constructor(
    readonly errorCode: string,
    message: string,
  ) {
    super(message);
  }
}

/** What an automation gets to do its work durably. */
export interface AutomationContext {
  event: LogtoEvent;
  eventKey: string;
  /**
   * One Management API call (or a few reads) as its own durable step: retried with exponential backoff, a 429's
   * `Retry-After` honoured, 4xx that cannot succeed (404, 422, …) failing fast with Logto's error code. The result
   * must be JSON-serialisable; it is stored and not recomputed if the run resumes.
   */
  call<T>(name: string, fn: (logto: LogtoClient) => Promise<T>): Promise<T>;
  /** Claims an action so it runs once across events (one sign-up fires two events). */
  claim(actionKey: string): Promise<ActionClaim>;
  /** Marks a claimed action done, with a summary for the journal. */
  complete(actionKey: string, detail: unknown): Promise<void>;
}

export interface Automation {
  /** Stable name, shown in the journal. */
  name: string;
  wants(event: LogtoEvent): boolean;
  /** Returns a short JSON summary of what it did (or skipped). */
  run(ctx: AutomationContext): Promise<unknown>;
}
