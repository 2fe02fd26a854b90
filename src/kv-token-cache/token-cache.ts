import type { JwtAlgorithm } from '../config';
import { log } from '../log';
import { createValueFlight } from '../value-flight';
import {
  DEFAULT_SKEW_SECONDS,
  dropFromKv,
  errorOf,
  readVerifiedFromKv,
  type TokenBrokerClient,
  type TokenGrant,
  tokenKvKey,
} from './broker';
import type { JwksKeyResolver } from './jwks';
import { createTokenVerifier } from './verify-token';

const DEFAULT_REFRESH_AHEAD_SECONDS = 300;
/** After a background refresh is asked for, this isolate asks again no sooner than this. */
const REFRESH_RETRY_AFTER_MS = 30_000;

export interface TokenCacheOptions {
  endpoint: string;
  issuer: string;
  resource: string;
  appId: string;
  kv: KVNamespace;
  /** Where tokens come from when memory and KV have none: the tenant's Durable Object (one request per expiry). */
  broker: TokenBrokerClient;
  /** Default ['ES384'], Logto's default signing key type. */
  algorithms?: JwtAlgorithm[];
  /** For the JWKS (tokens read back from KV are verified again). */
  fetch?: typeof fetch;
  /** The JWKS resolver; default one built from `{endpoint}/oidc/jwks`. */
  keys?: JwksKeyResolver;
  /** Clock in epoch ms; also used for the `exp` check. */
  now?: () => number;
  random?: () => number;
  /** A token is not used in its last `skewSeconds` (default 60). */
  skewSeconds?: number;
  /** A background refresh is asked for up to this long before the skewed expiry (default 300 s, jittered). */
  refreshAheadSeconds?: number;
  /** `ctx.waitUntil`, so a background refresh outlives the request that asked for it. */
  waitUntil?: (promise: Promise<unknown>) => void;
  onError?: (message: string) => void;
}

export interface TokenCacheStats {
  /** Token-endpoint requests this cache waited for (made by the broker on its behalf). */
  tokenRequests: number;
  memoryHits: number;
  /** Tokens read from KV and verified again. */
  kvHits: number;
  /** Calls that asked the broker. */
  brokerCalls: number;
  /** getToken calls that waited for a token request to finish. */
  waitedOnEndpoint: number;
  backgroundRefreshes: number;
}

/** Where a token came from: isolate memory, KV, or the broker. */
export type TokenOrigin = 'memory' | 'kv' | 'endpoint' | 'broker';

/** A token as {@link TokenCache.acquire} hands it out. */
type Acquired = { accessToken: string; source: TokenOrigin; expiresAt: number };
const acquired = ({ accessToken, expiresAt }: TokenGrant, source: TokenOrigin): Acquired => ({
  accessToken,
  source,
  expiresAt,
});

export interface TokenCache {
  /** A verified access token, from memory, KV (verified again) or the broker. */
  getToken(): Promise<string>;
  /** Like getToken, and says where the token came from (observability, benchmarks). */
  acquire(): Promise<Acquired>;
  /** Forgets `token` everywhere (memory, KV, broker) after the API rejected it; the next call gets a new one. */
  invalidate(token: string): Promise<void>;
  stats(): TokenCacheStats;
}

/**
 * An isolate's M2M token: memory (a value) → KV (verified again: a tampered entry is never used) → the broker. No
 * promise is shared between requests: concurrent callers of a cold isolate wait for the first one's value by polling
 * (src/value-flight). A token close to expiry is refreshed in the background (`waitUntil`), once per isolate.
 *
 * @example
 * const cache = createTokenCache({ ...config, kv: env.TOKEN_CACHE, broker: governorStub, waitUntil });
 * const token = await cache.getToken();
 */
export function createTokenCache(options: TokenCacheOptions): TokenCache {
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const skewMs = (options.skewSeconds ?? DEFAULT_SKEW_SECONDS) * 1000;
  // Per-isolate jitter spreads refreshes, so that one isolate usually refreshes for all.
  const refreshAheadMs =
    (options.refreshAheadSeconds ?? DEFAULT_REFRESH_AHEAD_SECONDS) * 1000 * (0.5 + random() / 2);
  const report = options.onError ?? ((message) => log('warn', 'token.cache', { message }));
  const verify = createTokenVerifier({ ...options, now });
  const stats: TokenCacheStats = {
    tokenRequests: 0,
    memoryHits: 0,
    kvHits: 0,
    brokerCalls: 0,
    waitedOnEndpoint: 0,
    backgroundRefreshes: 0,
  };
  const flight = createValueFlight();
  const keyPromise = tokenKvKey(options.endpoint, options.appId, options.resource);
  /** The isolate's token, and when to ask for the next one in the background (values, not promises). */
  let memory: (TokenGrant & { refreshAt: number }) | undefined;
  let refreshAskedAt = Number.NEGATIVE_INFINITY;
  /** Refresh ahead, but never in the first half of a token's usable life (short-lived tokens). */
  const remember = (grant: TokenGrant) => {
    const usableUntil = grant.expiresAt - skewMs;
    memory = { ...grant, refreshAt: usableUntil - Math.min(refreshAheadMs, (usableUntil - now()) / 2) };
  };
  const usable = (grant: TokenGrant | undefined, after = now()): grant is TokenGrant =>
    !!grant && grant.expiresAt - skewMs > after;

  async function fromBroker(minUsableUntil: number) {
    stats.brokerCalls++;
    const answer = await options.broker.token({ minUsableUntil });
    if (!answer.ok) throw errorOf(answer.failure);
    if (answer.fetched) stats.tokenRequests++;
    return answer;
  }

  async function load(): Promise<Acquired> {
    const stored = await readVerifiedFromKv(options.kv, await keyPromise, verify, report);
    if (usable(stored)) {
      stats.kvHits++;
      remember(stored);
      return acquired(stored, 'kv');
    }
    const answer = await fromBroker(now());
    if (answer.fetched) stats.waitedOnEndpoint++;
    remember(answer.token);
    return acquired(answer.token, answer.fetched ? 'endpoint' : 'broker');
  }

  /** Asks the broker for a token newer than `current` (it fetches one unless another isolate already did). */
  function refreshInBackground(current: TokenGrant): void {
    if (now() - refreshAskedAt < REFRESH_RETRY_AFTER_MS) return;
    refreshAskedAt = now();
    stats.backgroundRefreshes++;
    const refresh = fromBroker(current.expiresAt - skewMs + 1).then(
      (answer) => {
        if (answer.token.expiresAt > (memory?.expiresAt ?? 0)) remember(answer.token);
      },
      (error: Error) => report(`background refresh failed: ${error.message}`),
    );
    options.waitUntil?.(refresh);
  }

  async function acquire(): Promise<Acquired> {
    if (usable(memory)) {
      stats.memoryHits++;
      if (now() >= memory.refreshAt) refreshInBackground(memory);
      return acquired(memory, 'memory');
    }
    return flight.get(() => (usable(memory) ? acquired(memory, 'memory') : undefined), load);
  }

  return {
    acquire,
    getToken: async () => (await acquire()).accessToken,
    async invalidate(token) {
      if (memory?.accessToken === token) memory = undefined;
      await dropFromKv(options.kv, await keyPromise, token);
      await options.broker.drop(token);
    },
    stats: () => ({ ...stats }),
  };
}
