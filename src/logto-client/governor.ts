import { AppError, GOVERNOR_WAIT } from '../errors';
/**
 * What the client asks before every Management API call: a slot from the rate governor. Production uses the tenant's
 * Durable Object (src/governor), shared by every isolate, Workflow instance, cron and admin call. The caller waits in
 * its own context; a wait longer than it allows ends in {@link GovernorBusyError}, which a Workflow turns into a
 * durable sleep.
 */
export interface RateGovernor {
  acquire(request: { maxWaitMs: number; leaseMs: number }): Promise<Admission>;
}

/** A granted slot. `release` once the call was answered (or failed); `pauseMs` after a 429's `Retry-After`. */
export interface Admission {
  release(outcome?: { pauseMs?: number }): Promise<void>;
}

/** No slot came within the wait the caller allows; try again in `retryAfterMs`. */
export class GovernorBusyError extends AppError {
  override readonly name = 'GovernorBusyError';
  declare readonly retryAfterMs: number;
  constructor(retryAfterMs: number) {
    super(GOVERNOR_WAIT, `the rate governor has no slot free; retry in ${retryAfterMs} ms`, {
      httpStatus: 503,
      retryable: true,
      retryAfterMs,
    });
  }
}

const NO_OP: Admission = { release: async () => {} };

/** No pacing at all (`LOGTO_RATE_BUDGET=off`: a self-hosted Logto without a rate limit). */
export const UNLIMITED_GOVERNOR: RateGovernor = { acquire: async () => NO_OP };
