import { env } from 'cloudflare:workers';
import { createLogtoEmulator, DEFAULT_EMULATOR_APP, type LogtoEmulatorOptions } from '../emulator';
import { createTokenCache, type TokenCacheOptions } from '../src/kv-token-cache';
import { createLogtoClient, type LogtoClientOptions } from '../src/logto-client';

/** A clock tests move by hand; sleeping on it advances it (no fake timers, no real waiting). */
export function createClock(start = Date.UTC(2026, 10, 25, 12)) {
  let current = start;
  return {
    now: () => current,
    advance(ms: number) {
      current += ms;
    },
    sleep: async (ms: number) => {
      current += ms;
    },
  };
}

let counter = 0;
/** A unique emulator origin per call, so tests sharing one KV never share a token cache key. */
export const uniqueEndpoint = () => `http://logto-${Date.now().toString(36)}-${++counter}.test`;

export const noSleep = async () => {};

/** An emulator plus a token cache and client wired to it in-process; options override either side. */
export async function setupLogto(
  overrides: {
    emulator?: LogtoEmulatorOptions;
    cache?: Partial<TokenCacheOptions>;
    client?: Partial<LogtoClientOptions>;
  } = {},
) {
  const emulator = await createLogtoEmulator({ endpoint: uniqueEndpoint(), ...overrides.emulator });
  const cacheOptions: TokenCacheOptions = {
    endpoint: emulator.endpoint,
    issuer: emulator.issuer,
    resource: emulator.resource,
    appId: DEFAULT_EMULATOR_APP.id,
    appSecret: DEFAULT_EMULATOR_APP.secret,
    kv: env.TOKEN_CACHE,
    fetch: emulator.fetch,
    sleep: noSleep,
    retry: { retries: 3, baseDelayMs: 1, maxDelayMs: 50 },
    ...overrides.cache,
  };
  const tokens = createTokenCache(cacheOptions);
  const logto = createLogtoClient({
    endpoint: emulator.endpoint,
    tokens,
    fetch: emulator.fetch,
    sleep: noSleep,
    retry: { retries: 3, baseDelayMs: 1, maxDelayMs: 50 },
    ...overrides.client,
  });
  return { emulator, tokens, logto, cacheOptions };
}

/** Number of token-endpoint requests the emulator received. */
export const tokenRequestCount = (emulator: { faults: { count(key: string): number } }) =>
  emulator.faults.count('POST /oidc/token');

/** Catches the rejection of `promise` (fails the test when it resolves). */
export async function rejection<T = Error>(promise: Promise<unknown>): Promise<T> {
  try {
    await promise;
  } catch (error) {
    return error as T;
  }
  throw new Error('expected a rejection');
}
