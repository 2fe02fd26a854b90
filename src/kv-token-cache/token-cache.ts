import type { JwtAlgorithm } from '../config';
import { sha256Hex } from '../hash';
import { DEFAULT_RETRY_POLICY, type RetryPolicy, realSleep, type Sleep } from '../http-retry';
import { TokenCheckError } from './errors';
import { requestAccessToken } from './token-endpoint';
import { createTokenVerifier } from './verify-token';

/** KV rejects an `expirationTtl` below 60 s. */
export const KV_MIN_TTL_SECONDS = 60;
/** KV key prefix; the rest is a SHA-256 of endpoint, app ID and resource (never the secret). */
export const TOKEN_KEY_PREFIX = 'logto-m2m-token:v1:';
const DEFAULT_SKEW_SECONDS = 60;
const DEFAULT_REFRESH_AHEAD_SECONDS = 300;
/** After a failed background refresh, calls keep using the valid token and the next attempt waits this long. */
const REFRESH_RETRY_AFTER_MS = 30_000;

export interface TokenCacheOptions {
  endpoint: string;
  issuer: string;
  resource: string;
  appId: string;
  appSecret: string;
  kv: KVNamespace;
  /** Default ['ES384'], Logto's default signing key type. */
  algorithms?: JwtAlgorithm[];
  fetch?: typeof fetch;
  /** Clock in epoch ms; also used for the `exp` check. */
  now?: () => number;
  sleep?: Sleep;
  random?: () => number;
  /** A token is not used in its last `skewSeconds` (default 60). */
  skewSeconds?: number;
  /** A background refresh starts up to this long before the skewed expiry (default 300 s, jittered per isolate). */
  refreshAheadSeconds?: number;
  /** `ctx.waitUntil`, so a background refresh outlives the request that started it. */
  waitUntil?: (promise: Promise<unknown>) => void;
  retry?: RetryPolicy;
  timeoutMs?: number;
  userAgent?: string;
  /** Cross-isolate coordination on a cold cache; see docs/architecture.md. */
  lease?: { settleMs: number; pollMs: number; waitMs: number };
  onError?: (message: string) => void;
}

export interface TokenCacheStats {
  /** Requests this cache sent to `/oidc/token`. */
  tokenRequests: number;
  memoryHits: number;
  kvHits: number;
  /** getToken calls that waited for a token request to finish. */
  waitedOnEndpoint: number;
  backgroundRefreshes: number;
}

/** Where a token came from: isolate memory, KV, or a token request this call had to wait for. */
export type TokenOrigin = 'memory' | 'kv' | 'endpoint';

export interface TokenCache {
  /** A verified access token, from memory, KV or the token endpoint (single-flight per isolate). */
  getToken(): Promise<string>;
  /** Like getToken, and says where the token came from (observability, benchmarks). */
  acquire(): Promise<{ accessToken: string; source: TokenOrigin }>;
  /** Forgets `token` (memory and KV) after the API rejected it with 401; the next getToken fetches anew. */
  invalidate(token: string): Promise<void>;
  stats(): TokenCacheStats;
}

interface Entry {
  accessToken: string;
  expiresAt: number;
}
type Need = 'usable' | 'fresh';

function isEntry(value: unknown): value is Entry {
  const entry = value as Entry | null;
  return typeof entry?.accessToken === 'string' && typeof entry.expiresAt === 'number';
}

/**
 * Creates the M2M token cache: isolate memory → KV → `POST /oidc/token`, every fetched token verified before use.
 *
 * @example
 * const cache = createTokenCache({ ...config, kv: env.TOKEN_CACHE, waitUntil: (p) => ctx.waitUntil(p) });
 * const token = await cache.getToken();
 */
export function createTokenCache(options: TokenCacheOptions): TokenCache {
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? realSleep;
  const random = options.random ?? Math.random;
  const skewMs = (options.skewSeconds ?? DEFAULT_SKEW_SECONDS) * 1000;
  // Per-isolate jitter spreads refreshes so that one isolate usually refreshes for all (through KV).
  const refreshAheadMs =
    (options.refreshAheadSeconds ?? DEFAULT_REFRESH_AHEAD_SECONDS) * 1000 * (0.5 + random() / 2);
  const lease = options.lease ?? { settleMs: 25, pollMs: 25, waitMs: 2_000 };
  const report = options.onError ?? ((message) => console.warn(`[kv-token-cache] ${message}`));
  const verify = createTokenVerifier({
    jwksUrl: `${options.endpoint}/oidc/jwks`,
    issuer: options.issuer,
    audience: options.resource,
    subject: options.appId,
    algorithms: options.algorithms ?? ['ES384'],
    fetch: doFetch,
    now,
  });
  const stats: TokenCacheStats = {
    tokenRequests: 0,
    memoryHits: 0,
    kvHits: 0,
    waitedOnEndpoint: 0,
    backgroundRefreshes: 0,
  };
  let memory: Entry | null = null;
  let inflight: Promise<{ entry: Entry; fetched: boolean }> | null = null;
  let nextRefreshAt = 0;
  const keyPromise = sha256Hex(`${options.endpoint}\n${options.appId}\n${options.resource}`).then(
    (hash) => TOKEN_KEY_PREFIX + hash,
  );

  const usableUntil = (entry: Entry) => entry.expiresAt - skewMs;
  const satisfies = (entry: Entry, need: Need) =>
    now() < usableUntil(entry) - (need === 'fresh' ? refreshAheadMs : 0);

  async function readKv(): Promise<Entry | null> {
    try {
      const value = await options.kv.get(await keyPromise, 'json');
      return isEntry(value) ? value : null;
    } catch {
      report('KV read failed; continuing without it');
      return null;
    }
  }

  async function fetchAndStore(key: string): Promise<Entry> {
    stats.tokenRequests++;
    const response = await requestAccessToken({
      endpoint: options.endpoint,
      appId: options.appId,
      appSecret: options.appSecret,
      resource: options.resource,
      fetch: doFetch,
      sleep,
      retry: options.retry ?? DEFAULT_RETRY_POLICY,
      timeoutMs: options.timeoutMs ?? 10_000,
      userAgent: options.userAgent ?? 'logto-automations',
    });
    const verdict = await verify(response.accessToken);
    if (!verdict.ok) throw new TokenCheckError(verdict.check, verdict.detail);
    const expiresAt = Math.min(now() + response.expiresIn * 1000, (verdict.claims.exp ?? 0) * 1000);
    const entry: Entry = { accessToken: response.accessToken, expiresAt };
    const ttlSeconds = Math.floor((usableUntil(entry) - now()) / 1000);
    // A token living less than KV's minimum TTL past the skew stays in memory only.
    if (ttlSeconds >= KV_MIN_TTL_SECONDS) {
      await options.kv.put(key, JSON.stringify(entry), { expirationTtl: ttlSeconds }).catch(() => {
        report('KV write failed; token kept in memory only');
      });
    }
    return entry;
  }

  /** Best effort: one isolate per location fetches; the others wait briefly for its token to appear in KV. */
  async function acquire(need: Need): Promise<{ entry: Entry; fetched: boolean }> {
    const key = await keyPromise;
    const leaseKey = `${key}:lease`;
    const holder = await options.kv.get(leaseKey).catch(() => null);
    if (!holder) {
      const id = crypto.randomUUID();
      await options.kv.put(leaseKey, id, { expirationTtl: KV_MIN_TTL_SECONDS }).catch(() => undefined);
      await sleep(lease.settleMs);
      if ((await options.kv.get(leaseKey).catch(() => null)) === id) {
        try {
          return { entry: await fetchAndStore(key), fetched: true };
        } finally {
          await options.kv.delete(leaseKey).catch(() => undefined);
        }
      }
    }
    for (let waited = 0; waited < lease.waitMs; waited += lease.pollMs) {
      await sleep(lease.pollMs);
      const entry = await readKv();
      if (entry && satisfies(entry, need)) {
        stats.kvHits++;
        return { entry, fetched: false };
      }
    }
    return { entry: await fetchAndStore(key), fetched: true };
  }

  function load(need: Need): Promise<{ entry: Entry; fetched: boolean }> {
    inflight ??= (async () => {
      const stored = await readKv();
      if (stored && satisfies(stored, need)) {
        stats.kvHits++;
        return { entry: stored, fetched: false };
      }
      return acquire(need);
    })()
      .then((result) => {
        memory = result.entry;
        return result;
      })
      .finally(() => {
        inflight = null;
      });
    return inflight;
  }

  function refreshInBackground(): void {
    if (inflight || now() < nextRefreshAt) return;
    stats.backgroundRefreshes++;
    const refresh = load('fresh').catch((error: Error) => {
      nextRefreshAt = now() + REFRESH_RETRY_AFTER_MS;
      report(`background refresh failed: ${error.message}`);
    });
    options.waitUntil?.(refresh);
  }

  async function acquireToken(): Promise<{ accessToken: string; source: TokenOrigin }> {
    if (memory && satisfies(memory, 'usable')) {
      stats.memoryHits++;
      if (!satisfies(memory, 'fresh')) refreshInBackground();
      return { accessToken: memory.accessToken, source: 'memory' };
    }
    const { entry, fetched } = await load('usable');
    if (fetched) stats.waitedOnEndpoint++;
    return { accessToken: entry.accessToken, source: fetched ? 'endpoint' : 'kv' };
  }

  return {
    acquire: acquireToken,
    getToken: async () => (await acquireToken()).accessToken,
    async invalidate(token) {
      if (memory?.accessToken === token) memory = null;
      const stored = await readKv();
      if (stored?.accessToken === token) await options.kv.delete(await keyPromise).catch(() => undefined);
    },
    stats: () => ({ ...stats }),
  };
}
