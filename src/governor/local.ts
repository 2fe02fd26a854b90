import type { Admission, RateGovernor } from '../logto-client';
import { GovernorBusyError } from '../logto-client';
import { admit, type Budget, createWindow, nextOpening, pause, release } from './window';

/**
 * The governor's arithmetic in one process, without a Durable Object: for benchmarks that model one caller and for
 * unit tests. Waiting polls the window with the caller's own `sleep` (no promise is shared between callers), so it
 * obeys the runtime rule, but it paces only the callers that share this object — production uses the Durable Object.
 */
/** How often a waiter looks again while every slot is in flight. */
const POLL_MS = 10;

export function createLocalGovernor(options: {
  budget: Budget;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
}): RateGovernor & { used(): number } {
  const window = createWindow();
  let serial = 0;
  return {
    async acquire({ maxWaitMs, leaseMs }): Promise<Admission> {
      const ticket = String(++serial);
      const deadline = options.now() + maxWaitMs;
      while (!admit(window, options.budget, options.now(), ticket, leaseMs)) {
        const at = options.now();
        const opening = nextOpening(window, options.budget, at);
        if (opening > deadline) throw new GovernorBusyError(opening - at);
        // Every slot in flight: one frees when its call is answered, which no clock predicts: look again shortly,
        // in real time (an injected clock would race ahead while the calls wait for real I/O).
        const oldest = window.answered[0];
        const byAnswer = oldest !== undefined && oldest + options.budget.windowMs === opening;
        if (byAnswer || at < window.pausedUntil) await options.sleep(Math.max(1, opening - at));
        else await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
      return {
        release: async (outcome) => {
          release(window, ticket, options.now());
          if (outcome?.pauseMs) pause(window, options.now() + outcome.pauseMs);
        },
      };
    },
    used: () => window.answered.length + window.inflight.size,
  };
}
