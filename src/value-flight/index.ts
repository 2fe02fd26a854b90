import { realSleep } from '../http-retry';
/**
 * Per-isolate loading without shared promises (the runtime rule, docs/architecture.md): workerd cancels a Promise,
 * timer or resolver created while serving one request when that request ends, so another request awaiting it would
 * hang for ever. Here an isolate keeps only *values*: the loaded value, and when a load started. A caller that finds
 * a load in progress polls for its value with its own timer; when the load fails, takes longer than `waitMs`, or its
 * request ended, the caller loads by itself.
 *
 * Polling is real-time coordination between concurrent callers, so it uses the real clock and real timers, never an
 * injected test clock.
 */
export interface ValueFlightOptions {
  /** Poll interval while another caller loads. Default 15 ms. */
  pollMs?: number;
  /** Longest a caller polls before it loads by itself. Default 2 000 ms. */
  waitMs?: number;
}

export interface ValueFlight {
  /**
   * `read()` when it has a value; otherwise, while another caller of this flight is loading, polls `read()`; then
   * `load()` in this caller's own context.
   */
  get<T>(read: () => T | undefined, load: () => Promise<T>): Promise<T>;
}

export function createValueFlight(options: ValueFlightOptions = {}): ValueFlight {
  const pollMs = options.pollMs ?? 15;
  const waitMs = options.waitMs ?? 2_000;
  /** When the load in progress started (a number: a value, not the load's promise). */
  let loadingSince = Number.NEGATIVE_INFINITY;
  return {
    async get(read, load) {
      const deadline = Date.now() + waitMs;
      for (;;) {
        const value = read();
        if (value !== undefined) return value;
        const someoneLoading = Date.now() - loadingSince < waitMs;
        if (!someoneLoading || Date.now() >= deadline) break;
        await realSleep(pollMs);
      }
      const started = Date.now();
      loadingSince = started;
      try {
        return await load();
      } finally {
        if (loadingSince === started) loadingSince = Number.NEGATIVE_INFINITY;
      }
    },
  };
}
