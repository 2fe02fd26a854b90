import type { JwtAlgorithm } from '../config';
import { sha256Hex } from '../hash';
import { DEFAULT_RETRY_POLICY, type RetryPolicy, realSleep, type Sleep } from '../http-retry';
import { log } from '../log';
import { type TokenCheck, TokenCheckError, TokenEndpointError } from './errors';
import type { JwksKeyResolver } from './jwks';
import { requestAccessToken } from './token-endpoint';
import { createTokenVerifier, type TokenVerdict } from './verify-token';

/** KV rejects an `expirationTtl` below 60 s. */
export const KV_MIN_TTL_SECONDS = 60;
/** KV key prefix; the rest is a SHA-256 of endpoint, app ID and resource (never the secret). */
export const TOKEN_KEY_PREFIX = 'logto-m2m-token:v1:';
export const DEFAULT_SKEW_SECONDS = 60;

/** The KV key of a tenant's M2M token. */
export const tokenKvKey = async (endpoint: string, appId: string, resource: string) =>
  TOKEN_KEY_PREFIX + (await sha256Hex(`${endpoint}\n${appId}\n${resource}`));

/** A verified access token and when it expires (epoch ms). */
export interface TokenGrant {
  accessToken: string;
  expiresAt: number;
}

/** A broker failure as a plain value: error classes do not survive an RPC boundary. */
export type BrokerFailure =
  | { kind: 'endpoint'; oauthError: string; status: number; message: string }
  | { kind: 'check'; check: TokenCheck; message: string };

export type BrokerAnswer =
  | { ok: true; token: TokenGrant; fetched: boolean }
  | { ok: false; failure: BrokerFailure };

/** What an isolate's token cache asks for a token: the Durable Object's RPC stub, or a broker in tests. */
export interface TokenBrokerClient {
  /** A token usable (`expiresAt − skew`) after `minUsableUntil` (epoch ms); fetched when the held one is not. */
  token(request: { minUsableUntil: number }): Promise<BrokerAnswer>;
  /** Forgets `accessToken` (the API rejected it) so the next request fetches anew. */
  drop(accessToken: string): Promise<void>;
}

export interface TokenBrokerOptions {
  endpoint: string;
  issuer: string;
  resource: string;
  appId: string;
  appSecret: string;
  kv: KVNamespace;
  /** Default ['ES384'], Logto's default signing key type. */
  algorithms?: JwtAlgorithm[];
  fetch?: typeof fetch;
  now?: () => number;
  sleep?: Sleep;
  /** A token is not used in its last `skewSeconds` (default 60). */
  skewSeconds?: number;
  retry?: RetryPolicy;
  timeoutMs?: number;
  userAgent?: string;
  /** The JWKS resolver; default one built from `{endpoint}/oidc/jwks`. */
  keys?: JwksKeyResolver;
  onError?: (message: string) => void;
}

export const brokerFailureOf = (error: unknown): BrokerFailure => {
  if (error instanceof TokenCheckError) return { kind: 'check', check: error.check, message: error.message };
  if (error instanceof TokenEndpointError)
    return { kind: 'endpoint', oauthError: error.oauthError, status: error.status, message: error.message };
  return { kind: 'endpoint', oauthError: 'network_error', status: 0, message: 'token endpoint unreachable' };
};

/** The typed error of a {@link BrokerFailure}, rethrown in the caller's isolate. */
export const errorOf = (failure: BrokerFailure): Error =>
  failure.kind === 'check'
    ? Object.assign(new TokenCheckError(failure.check, ''), { message: failure.message })
    : new TokenEndpointError(failure.oauthError, failure.status, failure.message);

function isGrant(value: unknown): value is TokenGrant {
  const grant = value as TokenGrant | null;
  return typeof grant?.accessToken === 'string' && typeof grant.expiresAt === 'number';
}

/** Reads the tenant's token from KV and verifies it again; undefined when absent, unreadable or rejected. */
export async function readVerifiedFromKv(
  kv: KVNamespace,
  key: string,
  verify: (token: string) => Promise<TokenVerdict>,
  report: (message: string) => void,
): Promise<TokenGrant | undefined> {
  let stored: unknown;
  try {
    stored = await kv.get(key, 'json');
  } catch {
    report('KV read failed; continuing without it');
    return undefined;
  }
  if (!isGrant(stored)) return undefined;
  const verdict = await verify(stored.accessToken);
  if (verdict.ok)
    return {
      accessToken: stored.accessToken,
      expiresAt: Math.min(stored.expiresAt, (verdict.claims.exp ?? 0) * 1000),
    };
  if (verdict.check === 'jwks_unavailable') throw new TokenCheckError(verdict.check, verdict.detail);
  // Tampered, or issued under an old configuration: never used, and removed so nobody else reads it.
  report(`the token in KV failed the ${verdict.check} check; ignored`);
  await kv.delete(key).catch(() => undefined);
  return undefined;
}

/** Deletes the tenant's token from KV when it is `accessToken` (the API rejected it); best effort. */
export async function dropFromKv(kv: KVNamespace, key: string, accessToken: string): Promise<void> {
  const stored = await kv.get(key, 'json').catch(() => null);
  if (isGrant(stored) && stored.accessToken === accessToken) await kv.delete(key).catch(() => undefined);
}

/**
 * The deployment's one source of M2M tokens: lives in the tenant's Durable Object (src/governor), so there is one
 * token request per expiry for the whole deployment. Keeps the token in memory, stores it in KV until
 * `expires_in − skew` for every isolate to read, and verifies each token it fetches or reads back. Inside the Durable
 * Object, concurrent requests may share its in-flight load (the platform allows it there, and only there).
 */
export function createTokenBroker(options: TokenBrokerOptions) {
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  const now = options.now ?? Date.now;
  const skewMs = (options.skewSeconds ?? DEFAULT_SKEW_SECONDS) * 1000;
  const report = options.onError ?? ((message) => log('warn', 'token.broker', { message }));
  const verify = createTokenVerifier({ ...options, fetch: doFetch, now });
  const keyPromise = tokenKvKey(options.endpoint, options.appId, options.resource);
  let held: TokenGrant | undefined;
  let inflight: Promise<{ token: TokenGrant; fetched: boolean }> | undefined;
  let tokenRequests = 0;
  const usable = (grant: TokenGrant | undefined, after: number) =>
    !!grant && grant.expiresAt - skewMs > after;

  async function fetchAndStore(key: string): Promise<TokenGrant> {
    tokenRequests++;
    const response = await requestAccessToken({
      ...options,
      fetch: doFetch,
      sleep: options.sleep ?? realSleep,
      retry: options.retry ?? DEFAULT_RETRY_POLICY,
      timeoutMs: options.timeoutMs ?? 10_000,
      userAgent: options.userAgent ?? 'logto-automations',
    });
    const verdict = await verify(response.accessToken);
    if (!verdict.ok) throw new TokenCheckError(verdict.check, verdict.detail);
    const grant = {
      accessToken: response.accessToken,
      expiresAt: Math.min(now() + response.expiresIn * 1000, (verdict.claims.exp ?? 0) * 1000),
    };
    const ttlSeconds = Math.floor((grant.expiresAt - skewMs - now()) / 1000);
    // A token living less than KV's minimum TTL past the skew stays in memory only.
    if (ttlSeconds >= KV_MIN_TTL_SECONDS) {
      await options.kv.put(key, JSON.stringify(grant), { expirationTtl: ttlSeconds }).catch(() => {
        report('KV write failed; token kept in memory only');
      });
    }
    return grant;
  }

  async function load(minUsableUntil: number) {
    const key = await keyPromise;
    const stored = await readVerifiedFromKv(options.kv, key, verify, report);
    if (stored && usable(stored, minUsableUntil)) return { token: stored, fetched: false };
    return { token: await fetchAndStore(key), fetched: true };
  }

  return {
    async token({ minUsableUntil }: { minUsableUntil: number }): Promise<BrokerAnswer> {
      if (held && usable(held, minUsableUntil)) return { ok: true, token: held, fetched: false };
      try {
        for (let round = 0; ; round++) {
          inflight ??= load(Math.max(minUsableUntil, now())).finally(() => {
            inflight = undefined;
          });
          const loaded = await inflight;
          held = loaded.token;
          // A load started for an earlier need may bring a token this caller cannot use: load once more.
          if (loaded.fetched || usable(loaded.token, minUsableUntil) || round > 0)
            return { ok: true, ...loaded };
        }
      } catch (error) {
        return { ok: false, failure: brokerFailureOf(error) };
      }
    },
    async drop(accessToken: string): Promise<void> {
      if (held?.accessToken === accessToken) held = undefined;
      await dropFromKv(options.kv, await keyPromise, accessToken);
    },
    stats: () => ({ tokenRequests }),
  } satisfies TokenBrokerClient & { stats(): { tokenRequests: number } };
}

export type TokenBroker = ReturnType<typeof createTokenBroker>;
