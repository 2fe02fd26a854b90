import type { Sleep } from '../http-retry';

/** Paces calls to at most `requests` per sliding `windowMs`. */
export interface RateBudget {
  /** Resolves when one more call fits in the budget (and counts it). */
  acquire(): Promise<void>;
}

/**
 * A per-isolate sliding-window budget. Default for Logto Cloud: 200 requests per 10 s (Logto's advice; its
 * firewall answers 429 beyond). Calls queue in order rather than fail.
 */
export function createRateBudget(options: {
  requests: number;
  windowMs: number;
  now: () => number;
  sleep: Sleep;
}): RateBudget {
  const sent: number[] = [];
  let queue: Promise<void> = Promise.resolve();

  async function take(): Promise<void> {
    for (;;) {
      const now = options.now();
      while (sent.length > 0 && (sent[0] ?? 0) <= now - options.windowMs) sent.shift();
      if (sent.length < options.requests) {
        sent.push(now);
        return;
      }
      await options.sleep((sent[0] ?? now) + options.windowMs - now);
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
