/** Attempts per Management API step before the event is `failed` (backoff 2 s doubling to 5 min: ~13 min in all). */
export const MAX_CALL_ATTEMPTS = 10;
const BASE_BACKOFF_MS = 2_000;
const MAX_BACKOFF_MS = 5 * 60_000;

/** The durable sleep after failed attempt `attempt` (1-based). Deterministic (no jitter): a resumed run must take the same path. */
export const stepBackoffMs = (attempt: number) =>
  Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** (attempt - 1));
