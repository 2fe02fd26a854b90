import {
  FetchTimeoutError,
  fetchWithTimeout,
  type RetryPolicy,
  type Sleep,
  withRetries,
} from '../http-retry';
import { TokenEndpointError } from './errors';

export interface TokenRequest {
  endpoint: string;
  appId: string;
  appSecret: string;
  resource: string;
  fetch: typeof fetch;
  sleep: Sleep;
  retry: RetryPolicy;
  timeoutMs: number;
  userAgent: string;
}

export interface TokenResponse {
  accessToken: string;
  expiresIn: number;
  scope: string | undefined;
}

const MAX_DESCRIPTION_CHARS = 200;

/** RFC 6749 §2.3.1: client id and secret are form-encoded before Basic; oidc-provider URL-decodes them. */
export function basicAuth(appId: string, appSecret: string): string {
  return `Basic ${btoa(`${encodeURIComponent(appId)}:${encodeURIComponent(appSecret)}`)}`;
}

async function describeFailure(response: Response): Promise<TokenEndpointError> {
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  // OAuth errors carry `error`; Logto's own guards (the Cloud token quota) carry only `code`.
  const oauthError = String(body.error ?? body.code ?? `http_${response.status}`);
  const description = String(body.error_description ?? body.message ?? response.statusText).slice(
    0,
    MAX_DESCRIPTION_CHARS,
  );
  const hint = HINTS[oauthError] ?? '';
  return new TokenEndpointError(
    oauthError,
    response.status,
    `token endpoint answered ${response.status} ${oauthError}: ${description}${hint}`,
  );
}

const HINTS: Record<string, string> = {
  invalid_client: ' (check LOGTO_M2M_APP_ID and LOGTO_M2M_APP_SECRET)',
  invalid_target:
    ' (check the Management API resource: Cloud uses https://{tenant}.logto.app/api, OSS https://default.logto.app/api)',
  'auth.exceed_token_limit': ' (Logto Cloud token quota reached)',
};

function parseSuccess(body: unknown): TokenResponse {
  const value = body as Record<string, unknown>;
  if (
    typeof value?.access_token !== 'string' ||
    typeof value.expires_in !== 'number' ||
    value.expires_in <= 0
  ) {
    throw new TokenEndpointError(
      'invalid_response',
      200,
      'token endpoint answered 200 without access_token/expires_in',
    );
  }
  return {
    accessToken: value.access_token,
    expiresIn: value.expires_in,
    scope: typeof value.scope === 'string' ? value.scope : undefined,
  };
}

/**
 * Obtains an M2M access token with `client_credentials` exactly as Logto documents it: Basic auth, form body
 * `grant_type=client_credentials&resource=…&scope=all`. 5xx, timeouts and network errors are retried with backoff;
 * 4xx (including the Cloud quota 429, which retrying only deepens) throw a {@link TokenEndpointError} at once.
 */
export function requestAccessToken(request: TokenRequest): Promise<TokenResponse> {
  return withRetries(
    request.retry,
    request.sleep,
    async () => {
      let response: Response;
      try {
        const call = new Request(`${request.endpoint}/oidc/token`, {
          method: 'POST',
          headers: {
            authorization: basicAuth(request.appId, request.appSecret),
            'content-type': 'application/x-www-form-urlencoded',
            accept: 'application/json',
            'user-agent': request.userAgent,
          },
          body: new URLSearchParams({
            grant_type: 'client_credentials',
            resource: request.resource,
            scope: 'all',
          }),
        });
        response = await fetchWithTimeout(request.fetch, call, request.timeoutMs);
      } catch (error) {
        const code = error instanceof FetchTimeoutError ? 'timeout' : 'network_error';
        const reason = error instanceof Error ? error.message : 'network error';
        throw new TokenEndpointError(code, 0, `token endpoint unreachable: ${reason}`);
      }
      if (!response.ok) throw await describeFailure(response);
      return parseSuccess(await response.json().catch(() => null));
    },
    // No answer, or a 5xx; a 200 without a token is not retried.
    (error) => error instanceof TokenEndpointError && (error.status === 0 || error.status >= 500),
  );
}
