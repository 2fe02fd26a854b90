import { AppError } from '../errors';
/**
 * Bounded retries with exponential backoff and full jitter, shared by the token endpoint, the JWKS fetch and the
 * Management API client ({@link withRetries}). The caller decides what is retryable and passes `sleep`.
 */

/** Retry policy. Defaults: 3 retries (4 attempts), 200 ms base, 5 s cap. */
export interface RetryPolicy {
  /** Retries after the first attempt. */
  retries: number;
  /** Delay before the first retry, doubled each time (before jitter). */
  baseDelayMs: number;
  /** Upper bound of any single delay, including a server's `Retry-After`. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { retries: 3, baseDelayMs: 200, maxDelayMs: 5_000 };

/** Sleeps `ms` milliseconds; injected so tests need no fake timers. */
export type Sleep = (ms: number) => Promise<void>;

export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The delay before retry number `attempt` (1-based): full jitter over `base * 2^(attempt-1)`, capped.
 * `random` is injectable for deterministic tests.
 */
export function backoffDelayMs(
  policy: RetryPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * Runs `attempt` until it returns. An error `retryable` accepts is retried at most `policy.retries` times, after the
 * error's `retryAfterMs` when it has one (a 429's `Retry-After`), else {@link backoffDelayMs}; any other error, and
 * the last one, is thrown.
 */
export async function withRetries<T>(
  policy: RetryPolicy,
  sleep: Sleep,
  attempt: () => Promise<T>,
  retryable: (error: unknown) => boolean,
): Promise<T> {
  for (let retry = 1; ; retry++) {
    try {
      return await attempt();
    } catch (error) {
      if (!retryable(error) || retry > policy.retries) throw error;
      await sleep((error as AppError | undefined)?.retryAfterMs ?? backoffDelayMs(policy, retry));
    }
  }
}

/**
 * Parses an HTTP `Retry-After` value (delta-seconds or an HTTP date) into milliseconds from `nowMs`.
 * Returns undefined when absent or unparseable.
 */
export function parseRetryAfterMs(value: string | null, nowMs: number): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

/** Raised by {@link fetchWithTimeout} when no response arrived in time. */
export class FetchTimeoutError extends AppError {
  override readonly name = 'FetchTimeoutError';
  constructor(readonly timeoutMs: number) {
    super('timeout', `no answer within ${timeoutMs} ms`, { httpStatus: 504, retryable: true });
  }
}

/**
 * Calls `fetcher` with an abort signal and gives up after `timeoutMs`, even when the fetch implementation ignores
 * the signal (an in-process emulator does). Rejects with {@link FetchTimeoutError}; network errors pass through.
 */
export async function fetchWithTimeout(
  fetcher: typeof fetch,
  request: Request,
  timeoutMs: number,
): Promise<Response> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new FetchTimeoutError(timeoutMs));
    }, timeoutMs);
  });
  try {
    return await Promise.race([fetcher(new Request(request, { signal: controller.signal })), timeout]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}
