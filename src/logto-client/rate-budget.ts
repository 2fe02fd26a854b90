import type { Sleep } from '../http-retry';

/** Paces calls to at most `requests` per sliding `windowMs`. */
export interface RateBudget {
  /**
   * Resolves when one more call fits in the budget, with the function to call once the call has been answered (or
   * has failed). The call holds its slot while in flight and counts for `windowMs` from its answer.
   */
  acquire(): Promise<() => void>;
}

/**
 * A per-isolate sliding-window budget. Default for Logto Cloud: 200 requests per 10 s (Logto's advice; its
 * firewall answers 429 beyond). Calls queue in order rather than fail.
 *
 * A slot counts from the call's answer, not its start: a server counts a request when it arrives, somewhere between
 * the two, and calls do not arrive in the order or at the spacing they were sent (one waits for a connection, another
 * for the CPU). Counting from the answer guarantees that no `requests + 1` calls reach the server within one window,
 * whatever the latency, at the cost of one latency per window (~1 % with 100 ms calls and a 10 s window).
 */
export function createRateBudget(options: {
  requests: number;
  windowMs: number;
  now: () => number;
  sleep: Sleep;
}): RateBudget {
  /** Answer times of the calls that still count, oldest first. */
  const answered: number[] = [];
  let inFlight = 0;
  let queue: Promise<unknown> = Promise.resolve();
  let onRelease: (() => void) | undefined;

  const release = () => {
    inFlight--;
    answered.push(options.now());
    onRelease?.();
    onRelease = undefined;
  };

  async function take(): Promise<() => void> {
    for (;;) {
      const now = options.now();
      while (answered.length > 0 && (answered[0] ?? 0) <= now - options.windowMs) answered.shift();
      if (answered.length + inFlight < options.requests) {
        inFlight++;
        let released = false;
        return () => {
          if (released) return;
          released = true;
          release();
        };
      }
      const oldest = answered[0];
      if (oldest !== undefined) await options.sleep(oldest + options.windowMs - now);
      // Every slot is in flight: the first answer starts the window that frees the next slot.
      else await new Promise<void>((resolve) => (onRelease = resolve));
    }
  }

  return {
    acquire() {
      const turn = queue.then(take);
      queue = turn.catch(() => undefined);
      return turn;
    },
  };
}
