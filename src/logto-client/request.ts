import {
  DEFAULT_RETRY_POLICY,
  FetchTimeoutError,
  fetchWithTimeout,
  parseRetryAfterMs,
  type RetryPolicy,
  realSleep,
  type Sleep,
  withRetries,
} from '../http-retry';
import { LogtoApiError } from './errors';
import { type RateGovernor, UNLIMITED_GOVERNOR } from './governor';

/** The token source the client needs: the KV token cache satisfies it. */
export interface TokenSource {
  getToken(): Promise<string>;
  invalidate(token: string): Promise<void>;
}

/**
 * Every Management API call carries this User-Agent. Logto copies the caller's User-Agent into the webhooks its
 * writes cause (`userAgent`), which is how the Worker recognises — and ignores — its own writes.
 */
export const PROJECT_USER_AGENT =
  'logto-automations/0.1 (+https://github.com/logto-automations/logto-automations)';

export interface LogtoClientOptions {
  /** Logto origin, e.g. `https://abc123.logto.app`. */
  endpoint: string;
  tokens: TokenSource;
  fetch?: typeof fetch;
  /** Per-attempt timeout. Default 10 000 ms. */
  timeoutMs?: number;
  retry?: RetryPolicy;
  /** Paces every call (the tenant's Durable Object in production). Default: no pacing. */
  governor?: RateGovernor;
  /** Longest a call waits for a governor slot in its own context (default 5 000 ms; per call: {@link CallOptions}). */
  governorWaitMs?: number;
  sleep?: Sleep;
  now?: () => number;
  userAgent?: string;
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

/** The routes' shorthand: a call that resolves to the answer's body. */
export const bodyOf =
  (request: Requester) =>
  async <T>(method: string, path: string, options?: CallOptions): Promise<T> =>
    (await request<T>(method, path, options)).data;

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

/**
 * Builds the request core: a slot from the rate governor, Bearer token, project User-Agent, per-call timeout,
 * 401 or 403 `auth.forbidden` → one token refresh, 429 honouring `Retry-After` (and pausing the governor for every
 * caller), bounded backoff with jitter for 5xx and lost responses, typed errors.
 */
export function createRequester(options: LogtoClientOptions): Requester {
  const endpoint = options.endpoint.replace(/\/+$/, '');
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  const userAgent = options.userAgent ?? PROJECT_USER_AGENT;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const retry = options.retry ?? DEFAULT_RETRY_POLICY;
  const governor = options.governor ?? UNLIMITED_GOVERNOR;
  const now = options.now ?? Date.now;
  return async <T>(method: string, path: string, call: CallOptions = {}): Promise<ApiResponse<T>> => {
    const idempotent = call.idempotent ?? method !== 'POST';
    const url = `${endpoint}/api${path}${call.query?.size ? `?${call.query}` : ''}`;
    const body = call.body === undefined ? undefined : JSON.stringify(call.body);
    let refreshedToken = false;
    const attempt = async (): Promise<ApiResponse<T>> => {
      // The token first: a slot is held only around the HTTP call itself (its lease must not lapse while a token is
      // being fetched, or the call would count from the lapse instead of its answer).
      const token = await options.tokens.getToken();
      const admission = await governor.acquire({
        maxWaitMs: call.governorWaitMs ?? options.governorWaitMs ?? 5_000,
        leaseMs: timeoutMs + 5_000,
      });
      const headers = new Headers({ authorization: `Bearer ${token}`, 'user-agent': userAgent });
      if (body !== undefined) headers.set('content-type', 'application/json');
      const request = new Request(url, { method, headers, body });
      let response: Response;
      try {
        response = await fetchWithTimeout(doFetch, request, timeoutMs);
      } catch (error) {
        await admission.release({}).catch(() => undefined);
        const code = error instanceof FetchTimeoutError ? 'timeout' : 'network_error';
        const message = error instanceof Error ? error.message : 'network error';
        // The call may have reached Logto: it is repeated only when repeating is harmless.
        throw new LogtoApiError(code, 0, method, path, message);
      }
      // The slot counts from the answer; a 429 pauses every caller for its Retry-After.
      const retryAfterMs =
        response.status === 429 ? parseRetryAfterMs(response.headers.get('retry-after'), now()) : undefined;
      const released = admission
        .release({ pauseMs: response.status === 429 ? (retryAfterMs ?? 1_000) : undefined })
        .catch(() => undefined);
      if (response.ok) {
        const [data] = await Promise.all([readBody<T>(response), released]);
        return { data, headers: response.headers };
      }
      await released;
      if (!refreshedToken && (await rejectsToken(response))) {
        refreshedToken = true; // a rejected token is replaced once, outside the retry count
        await response.body?.cancel();
        await options.tokens.invalidate(token);
        return attempt();
      }
      throw await toError(response, method, path, retryAfterMs);
    };
    return withRetries(
      retry,
      options.sleep ?? realSleep,
      attempt,
      (error) =>
        error instanceof LogtoApiError &&
        // A 429 was refused before any work was done, so even a create is retried when its Retry-After is short.
        (error.status === 429
          ? (error.retryAfterMs ?? 0) <= retry.maxDelayMs
          : (error.status === 0 || error.status >= 500) && idempotent),
    );
  };
}
