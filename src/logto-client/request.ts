import {
  backoffDelayMs,
  FetchTimeoutError,
  fetchWithTimeout,
  parseRetryAfterMs,
  type RetryPolicy,
  type Sleep,
} from '../http-retry';
import { LogtoApiError } from './errors';
import type { RateBudget } from './rate-budget';

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
  budget: RateBudget;
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

/**
 * Builds the request core: rate budget, Bearer token, project User-Agent, per-call timeout, 401 → one token
 * refresh, 429 honouring `Retry-After`, bounded backoff with jitter for 5xx and lost responses, typed errors.
 */
export function createRequester(options: RequesterOptions): Requester {
  return async <T>(method: string, path: string, call: CallOptions = {}): Promise<ApiResponse<T>> => {
    const idempotent = call.idempotent ?? method !== 'POST';
    const url = `${options.endpoint}/api${path}${call.query?.size ? `?${call.query}` : ''}`;
    let refreshedToken = false;
    let lastError: LogtoApiError | undefined;
    for (let attempt = 0; attempt <= options.retry.retries; ) {
      await options.budget.acquire();
      const token = await options.tokens.getToken();
      const headers = new Headers({ authorization: `Bearer ${token}`, 'user-agent': options.userAgent });
      if (call.body !== undefined) headers.set('content-type', 'application/json');
      const body = call.body === undefined ? undefined : JSON.stringify(call.body);
      let outcome: Response | Error;
      try {
        outcome = await fetchWithTimeout(
          options.fetch,
          new Request(url, { method, headers, body }),
          options.timeoutMs,
        );
      } catch (error) {
        outcome = error instanceof Error ? error : new Error('network error');
      }
      if (outcome instanceof Response && outcome.ok) {
        const data = (outcome.status === 204 ? undefined : await outcome.json()) as T;
        return { data, headers: outcome.headers };
      }
      if (outcome instanceof Response && outcome.status === 401 && !refreshedToken) {
        refreshedToken = true;
        await outcome.body?.cancel();
        await options.tokens.invalidate(token);
        continue;
      }
      let delayMs: number | undefined;
      if (outcome instanceof Response) {
        if (outcome.status === 429) {
          delayMs = parseRetryAfterMs(outcome.headers.get('retry-after'), options.now());
          lastError = await toError(outcome, method, path, delayMs);
          if (delayMs !== undefined && delayMs > options.retry.maxDelayMs) throw lastError;
        } else {
          lastError = await toError(outcome, method, path);
          if (outcome.status < 500 || !idempotent) throw lastError;
        }
      } else {
        const code = outcome instanceof FetchTimeoutError ? 'timeout' : 'network_error';
        lastError = new LogtoApiError(code, 0, method, path, outcome.message);
        if (!idempotent) throw lastError;
      }
      attempt++;
      if (attempt > options.retry.retries) break;
      await options.sleep(delayMs ?? backoffDelayMs(options.retry, attempt));
    }
    throw lastError ?? new LogtoApiError('network_error', 0, method, path, 'no attempt made');
  };
}
