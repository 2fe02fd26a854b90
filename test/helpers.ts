import { env } from 'cloudflare:workers';
import { vi } from 'vitest';
import {
  createLogtoEmulator,
  DEFAULT_EMULATOR_APP,
  type LogtoEmulator,
  type LogtoEmulatorOptions,
} from '../emulator';
import {
  createTokenBroker,
  createTokenCache,
  type TokenBrokerOptions,
  type TokenCacheOptions,
} from '../src/kv-token-cache';
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

/**
 * An emulator plus a token broker (what the tenant's Durable Object runs), an isolate's token cache and a client,
 * wired to it in-process; `cache` options apply to the broker and the cache alike. More isolates: call
 * `createTokenCache(cacheOptions)` again (they share the broker, as isolates share the Durable Object).
 */
export async function setupLogto(
  overrides: {
    emulator?: LogtoEmulatorOptions;
    cache?: Partial<TokenCacheOptions & TokenBrokerOptions>;
    client?: Partial<LogtoClientOptions>;
  } = {},
) {
  const emulator = await createLogtoEmulator({ endpoint: uniqueEndpoint(), ...overrides.emulator });
  const brokerOptions: TokenBrokerOptions = {
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
  const broker = createTokenBroker(brokerOptions);
  const cacheOptions: TokenCacheOptions = { ...brokerOptions, broker, ...overrides.cache };
  const tokens = createTokenCache(cacheOptions);
  const logto = createLogtoClient({
    endpoint: emulator.endpoint,
    tokens,
    fetch: emulator.fetch,
    sleep: noSleep,
    retry: { retries: 3, baseDelayMs: 1, maxDelayMs: 50 },
    ...overrides.client,
  });
  return { emulator, tokens, logto, cacheOptions, broker, brokerOptions };
}

/**
 * An access token from the emulator's token endpoint by client_credentials (Basic auth), for `resource` — the
 * Management API (with `scope=all`) unless another API resource is named. Default app: {@link DEFAULT_EMULATOR_APP}.
 */
export async function emulatorToken(
  emulator: Pick<LogtoEmulator, 'endpoint' | 'resource' | 'fetch'>,
  app: { id: string; secret: string } = DEFAULT_EMULATOR_APP,
  resource = emulator.resource,
): Promise<string> {
  const form = new URLSearchParams({ grant_type: 'client_credentials', resource });
  if (resource === emulator.resource) form.set('scope', 'all');
  const response = await emulator.fetch(`${emulator.endpoint}/oidc/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${btoa(`${app.id}:${app.secret}`)}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: form,
  });
  return ((await response.json()) as { access_token: string }).access_token;
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

/**
 * Captures the Worker's console lines (mocked: restore with `vi.restoreAllMocks()`): each parsed as the JSON line
 * src/log writes, or kept as `{unstructured}`; `raw` holds the text as written.
 */
export function captureLogs() {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  for (const level of ['log', 'warn', 'error'] as const)
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      const text = args.map(String).join(' ');
      raw.push(text);
      try {
        lines.push(JSON.parse(text));
      } catch {
        lines.push({ unstructured: text });
      }
    });
  return { lines, raw };
}
