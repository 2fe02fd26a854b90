import {
  backoffDelayMs,
  FetchTimeoutError,
  fetchWithTimeout,
  parseRetryAfterMs,
  type RetryPolicy,
  type Sleep,
} from '../http-retry';
import { LogtoApiError } from './errors';
import type { Admission, RateGovernor } from './governor';

/** The token source the client needs: the KV token cache satisfies it. */
export interface TokenSource {
  getToken(): Promise<string>;
  invalidate(token: string): Promise<void>;
}

export interface RequesterOptions {
  endpoint: string;
  tokens: TokenSource;
  fetch: typeof fetch;
  userAgent: string;
  timeoutMs: number;
  retry: RetryPolicy;
  governor: RateGovernor;
  /** Longest a call waits for the governor in its own context (default per call: {@link CallOptions}). */
  governorWaitMs: number;
  sleep: Sleep;
  now: () => number;
}

export interface CallOptions {
  query?: URLSearchParams;
  body?: unknown;
  /**
   * Whether the call may be repeated after an unknown outcome (timeout, network error, 5xx). Default: true except
   * for POST. Logto's role and membership POSTs skip existing rows, so they pass `idempotent: true`; creating an
   * organization does not (names are not unique).
   */
  idempotent?: boolean;
  /** Longest this call waits for a rate-governor slot before it throws `GovernorBusyError`. */
  governorWaitMs?: number;
}

export interface ApiResponse<T> {
  data: T;
  headers: Headers;
}

export type Requester = <T>(method: string, path: string, options?: CallOptions) => Promise<ApiResponse<T>>;

async function toError(
  response: Response,
  method: string,
  path: string,
  retryAfterMs?: number,
): Promise<LogtoApiError> {
  const body = (await response.json().catch(() => ({}))) as { code?: unknown; message?: unknown };
  const code = typeof body.code === 'string' ? body.code : `http_${response.status}`;
  const message = typeof body.message === 'string' ? body.message.slice(0, 300) : response.statusText;
  return new LogtoApiError(code, response.status, method, path, message, retryAfterMs);
}

/** 2xx body: JSON, or undefined when empty (204, or a 201 from Logto < 1.36 that had no body). */
async function readBody<T>(response: Response): Promise<T> {
  const text = await response.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

/**
 * Did Logto reject the token itself? 401, or 403 `auth.forbidden` (a token issued without the `all` scope, or one the
 * tenant no longer accepts): either way a new token may succeed, once.
 */
async function rejectsToken(response: Response): Promise<boolean> {
  if (response.status === 401) return true;
  if (response.status !== 403) return false;
  const body = (await response
    .clone()
    .json()
    .catch(() => ({}))) as { code?: unknown };
  return body.code === 'auth.forbidden';
}

/** What to do after a failed attempt: retry after `delayMs` (backoff when undefined), or throw `error`. */
async function judge(
  outcome: Response | Error,
  idempotent: boolean,
  maxDelayMs: number,
  at: { method: string; path: string; now: number },
): Promise<{ error: LogtoApiError; retry: boolean; delayMs?: number }> {
  const { method, path } = at;
  if (!(outcome instanceof Response)) {
    const code = outcome instanceof FetchTimeoutError ? 'timeout' : 'network_error';
    // The call may have reached Logto: repeat it only when repeating is harmless.
    return { error: new LogtoApiError(code, 0, method, path, outcome.message), retry: idempotent };
  }
  if (outcome.status === 429) {
    // A 429 was refused before any work was done, so even a create may be retried.
    const delayMs = parseRetryAfterMs(outcome.headers.get('retry-after'), at.now);
    const error = await toError(outcome, method, path, delayMs);
    return { error, retry: delayMs === undefined || delayMs <= maxDelayMs, delayMs };
  }
  return { error: await toError(outcome, method, path), retry: outcome.status >= 500 && idempotent };
}

/** A governor slot, waiting in this caller's own context at most `waitMs` in all. */
async function admit(options: RequesterOptions, waitMs: number): Promise<Admission> {
  return options.governor.acquire({ maxWaitMs: waitMs, leaseMs: options.timeoutMs + 5_000 });
}

/**
 * Builds the request core: a slot from the rate governor, Bearer token, project User-Agent, per-call timeout,
 * 401 or 403 `auth.forbidden` → one token refresh, 429 honouring `Retry-After` (and pausing the governor for every
 * caller), bounded backoff with jitter for 5xx and lost responses, typed errors.
 */
export function createRequester(options: RequesterOptions): Requester {
  return async <T>(method: string, path: string, call: CallOptions = {}): Promise<ApiResponse<T>> => {
    const idempotent = call.idempotent ?? method !== 'POST';
    const url = `${options.endpoint}/api${path}${call.query?.size ? `?${call.query}` : ''}`;
    const body = call.body === undefined ? undefined : JSON.stringify(call.body);
    let refreshedToken = false;
    for (let attempt = 1; ; ) {
      // The token first: a slot is held only around the HTTP call itself (its lease must not lapse while a token is
      // being fetched, or the call would count from the lapse instead of its answer).
      const token = await options.tokens.getToken();
      const admission = await admit(options, call.governorWaitMs ?? options.governorWaitMs);
      const headers = new Headers({ authorization: `Bearer ${token}`, 'user-agent': options.userAgent });
      if (body !== undefined) headers.set('content-type', 'application/json');
      const outcome: Response | Error = await fetchWithTimeout(
        options.fetch,
        new Request(url, { method, headers, body }),
        options.timeoutMs,
      ).catch((error: unknown) => (error instanceof Error ? error : new Error('network error')));
      // The slot counts from the answer; a 429 pauses every caller for its Retry-After.
      const pauseMs =
        outcome instanceof Response && outcome.status === 429
          ? (parseRetryAfterMs(outcome.headers.get('retry-after'), options.now()) ?? 1_000)
          : undefined;
      const released = admission.release({ pauseMs }).catch(() => undefined);
      if (outcome instanceof Response && outcome.ok) {
        const [data] = await Promise.all([readBody<T>(outcome), released]);
        return { data, headers: outcome.headers };
      }
      await released;
      if (outcome instanceof Response && !refreshedToken && (await rejectsToken(outcome))) {
        refreshedToken = true; // a rejected token is replaced once, outside the retry count
        await outcome.body?.cancel();
        await options.tokens.invalidate(token);
        continue;
      }
      const verdict = await judge(outcome, idempotent, options.retry.maxDelayMs, {
        method,
        path,
        now: options.now(),
      });
      if (!verdict.retry || attempt > options.retry.retries) throw verdict.error;
      await options.sleep(verdict.delayMs ?? backoffDelayMs(options.retry, attempt));
      attempt++;
    }
  };
}
