import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { DEFAULT_EMULATOR_APP } from '../emulator';
import {
  createTokenCache,
  TOKEN_KEY_PREFIX,
  type TokenCheckError,
  TokenEndpointError,
  tokenKvKey,
} from '../src/kv-token-cache';
import { createClock, emulatorToken, rejection, setupLogto, tokenRequestCount } from './helpers';

async function storedEntry(endpoint: string) {
  const { keys } = await env.TOKEN_CACHE.list({ prefix: TOKEN_KEY_PREFIX });
  for (const key of keys) {
    const raw = await env.TOKEN_CACHE.get(key.name);
    if (raw) return { key, raw };
  }
  throw new Error(`no token stored for ${endpoint}`);
}

describe('KV storage', () => {
  it('stores the token until expires_in minus the skew, under a hashed key without the secret', async () => {
    await env.TOKEN_CACHE.list().then(({ keys }) =>
      Promise.all(keys.map((key) => env.TOKEN_CACHE.delete(key.name))),
    );
    const { tokens, emulator } = await setupLogto();
    const startSeconds = Date.now() / 1000;
    const token = await tokens.getToken();
    const { key, raw } = await storedEntry(emulator.endpoint);
    expect(key.name).toMatch(new RegExp(`^${TOKEN_KEY_PREFIX}[0-9a-f]{64}$`));
    expect(key.expiration).toBeGreaterThanOrEqual(Math.floor(startSeconds + 3600 - 60 - 2));
    expect(key.expiration).toBeLessThanOrEqual(Math.ceil(startSeconds + 3600 - 60 + 2));
    expect(raw).toContain(token);
    expect(raw).not.toContain('m2m-secret');
    expect(key.name).not.toContain(emulator.endpoint);
  });

  it('honours a configured skew', async () => {
    await env.TOKEN_CACHE.list().then(({ keys }) =>
      Promise.all(keys.map((key) => env.TOKEN_CACHE.delete(key.name))),
    );
    const { tokens, emulator } = await setupLogto({ cache: { skewSeconds: 600 } });
    const startSeconds = Date.now() / 1000;
    await tokens.getToken();
    const { key } = await storedEntry(emulator.endpoint);
    expect(Math.abs((key.expiration ?? 0) - (startSeconds + 3000))).toBeLessThanOrEqual(2);
  });

  it('keeps a token whose remaining life is under KV’s 60 s minimum in memory only', async () => {
    await env.TOKEN_CACHE.list().then(({ keys }) =>
      Promise.all(keys.map((key) => env.TOKEN_CACHE.delete(key.name))),
    );
    const { tokens, emulator } = await setupLogto({ emulator: { tokenTtlSeconds: 100 } });
    const token = await tokens.getToken();
    expect(await tokens.getToken()).toBe(token);
    expect((await env.TOKEN_CACHE.list({ prefix: TOKEN_KEY_PREFIX })).keys).toHaveLength(0);
    expect(tokenRequestCount(emulator)).toBe(1);
  });

  it('a second isolate (another cache on the same KV) reuses the stored token', async () => {
    const { tokens, emulator, cacheOptions } = await setupLogto();
    const token = await tokens.getToken();
    const other = createTokenCache(cacheOptions);
    expect(await other.getToken()).toBe(token);
    expect(other.stats()).toMatchObject({ kvHits: 1, tokenRequests: 0 });
    expect(tokenRequestCount(emulator)).toBe(1);
  });
});

describe('single flight', () => {
  it('100 concurrent calls in one isolate share one token request', async () => {
    const { tokens, emulator } = await setupLogto();
    emulator.faults.add({ target: 'token', delayMs: 20 });
    const results = await Promise.all(Array.from({ length: 100 }, () => tokens.getToken()));
    expect(new Set(results).size).toBe(1);
    expect(tokenRequestCount(emulator)).toBe(1);
  });

  it('8 cold isolates starting together make one token request (the broker: one per deployment)', async () => {
    const { emulator, cacheOptions } = await setupLogto();
    emulator.faults.add({ target: 'token', delayMs: 30 });
    const isolates = Array.from({ length: 8 }, () => createTokenCache(cacheOptions));
    const results = await Promise.all(isolates.map((cache) => cache.getToken()));
    expect(new Set(results).size).toBe(1);
    expect(tokenRequestCount(emulator)).toBe(1);
  });
});

describe('a token read back from KV is verified again', () => {
  it('a tampered KV entry is never used, and is removed; the broker’s token is used instead', async () => {
    const { tokens, emulator, cacheOptions } = await setupLogto({
      emulator: {
        apps: [DEFAULT_EMULATOR_APP, { id: 'other-app', secret: 'other-secret', hasAllScope: true }],
      },
      cache: { onError: () => {} },
    });
    const real = await tokens.getToken();
    // A token for another app, signed by the same tenant: valid signature, wrong `sub`.
    const forged = await emulatorToken(emulator, { id: 'other-app', secret: 'other-secret' });
    const key = await tokenKvKey(emulator.endpoint, cacheOptions.appId, emulator.resource);
    await env.TOKEN_CACHE.put(
      key,
      JSON.stringify({ accessToken: forged, expiresAt: Date.now() + 3_000_000 }),
    );
    const fresh = createTokenCache(cacheOptions);
    const used = await fresh.getToken();
    expect(used).not.toBe(forged);
    expect(used).toBe(real);
    expect(fresh.stats()).toMatchObject({ kvHits: 0, brokerCalls: 1 });
    expect(await env.TOKEN_CACHE.get(key)).toBeNull();
    // Garbage in KV: the same.
    await env.TOKEN_CACHE.put(
      key,
      JSON.stringify({ accessToken: 'not.a.jwt', expiresAt: Date.now() + 3_000_000 }),
    );
    expect(await createTokenCache(cacheOptions).getToken()).toBe(real);
  });

  it('a JWKS answering 5xx or dropping the connection is retried, not reported as a bad token', async () => {
    const { tokens, emulator } = await setupLogto();
    emulator.faults.add({ target: 'jwks', status: 503, times: 2 });
    emulator.faults.add({ target: 'jwks', network: true, times: 1 });
    await expect(tokens.getToken()).resolves.toMatch(/^eyJ/);
    expect(emulator.faults.count('GET /oidc/jwks')).toBe(4);
    const down = await setupLogto();
    down.emulator.faults.add({ target: 'jwks', status: 503 });
    const error = await rejection<TokenCheckError>(down.tokens.getToken());
    expect(error.check).toBe('jwks_unavailable');
  });
});

describe('expiry and refresh ahead', () => {
  it('refreshes in the background before expiry, so no call waits on the endpoint', async () => {
    const clock = createClock();
    const background: Promise<unknown>[] = [];
    const { tokens, emulator } = await setupLogto({
      emulator: { now: clock.now },
      cache: {
        now: clock.now,
        random: () => 0,
        refreshAheadSeconds: 300,
        waitUntil: (p) => background.push(p),
      },
    });
    const first = await tokens.getToken();
    clock.advance((3600 - 60 - 100) * 1000); // inside the refresh window (≥ 150 s before the skewed expiry)
    expect(await tokens.getToken()).toBe(first); // answered from memory at once
    await Promise.all(background);
    expect(tokenRequestCount(emulator)).toBe(2);
    const second = await tokens.getToken();
    expect(second).not.toBe(first);
    expect(tokens.stats()).toMatchObject({ waitedOnEndpoint: 1, backgroundRefreshes: 1 });
  });

  it('a failed background refresh keeps serving the valid token and waits before trying again', async () => {
    const clock = createClock();
    const background: Promise<unknown>[] = [];
    const { tokens, emulator } = await setupLogto({
      emulator: { now: clock.now },
      cache: { now: clock.now, random: () => 0, waitUntil: (p) => background.push(p), onError: () => {} },
    });
    const first = await tokens.getToken();
    clock.advance((3600 - 60 - 100) * 1000);
    emulator.faults.add({ target: 'token', status: 503 });
    for (let i = 0; i < 20; i++) expect(await tokens.getToken()).toBe(first);
    await Promise.all(background);
    expect(tokenRequestCount(emulator)).toBe(1 + 4); // one refresh, with its retries, not twenty
    clock.advance(10_000);
    expect(await tokens.getToken()).toBe(first);
    await Promise.all(background);
    expect(tokenRequestCount(emulator)).toBe(1 + 4); // still cooling down
    clock.advance(21_000);
    await tokens.getToken();
    await Promise.all(background);
    expect(tokenRequestCount(emulator)).toBe(1 + 4 + 4);
  });

  it('never hands out a token inside the skew; it fetches a new one', async () => {
    const clock = createClock();
    const { tokens, emulator } = await setupLogto({
      emulator: { now: clock.now },
      cache: { now: clock.now, skewSeconds: 60, refreshAheadSeconds: 0 },
    });
    const first = await tokens.getToken();
    clock.advance((3600 - 59) * 1000);
    const second = await tokens.getToken();
    expect(second).not.toBe(first);
    expect(tokenRequestCount(emulator)).toBe(2);
  });
});

describe('token endpoint errors', () => {
  it('wrong secret → invalid_client (401), message names the variables, never the secret', async () => {
    const { tokens, emulator } = await setupLogto({ cache: { appSecret: 'wrong-secret-value' } });
    const error = await rejection<TokenEndpointError>(tokens.getToken());
    expect(error).toBeInstanceOf(TokenEndpointError);
    expect(error).toMatchObject({
      code: 'invalid_client',
      oauthError: 'invalid_client',
      status: 401,
      httpStatus: 503,
      retryable: false,
    });
    expect(error.message).toContain('LOGTO_M2M_APP_SECRET');
    expect(error.message).not.toContain('wrong-secret-value');
    expect(tokenRequestCount(emulator)).toBe(1); // 4xx: not retried
  });

  it('wrong resource → invalid_target (400)', async () => {
    const { tokens } = await setupLogto({ cache: { resource: 'https://nope.example/api' } });
    const error = await rejection<TokenEndpointError>(tokens.getToken());
    expect(error).toMatchObject({ oauthError: 'invalid_target', status: 400 });
  });

  it('Cloud token quota 429 → typed error, not retried', async () => {
    const { tokens, emulator } = await setupLogto();
    emulator.faults.add({ target: 'token', status: 429, code: 'auth.exceed_token_limit' });
    const error = await rejection<TokenEndpointError>(tokens.getToken());
    expect(error).toMatchObject({ oauthError: 'auth.exceed_token_limit', status: 429 });
    expect(tokenRequestCount(emulator)).toBe(1);
  });

  it('5xx and dropped connections are retried with backoff', async () => {
    const { tokens, emulator } = await setupLogto();
    emulator.faults.add({ target: 'token', status: 503, times: 2 });
    emulator.faults.add({ target: 'token', network: true, times: 1 });
    await expect(tokens.getToken()).resolves.toMatch(/^eyJ/);
    expect(tokenRequestCount(emulator)).toBe(4);
  });

  it('times out a slow token endpoint and retries', async () => {
    const { tokens, emulator } = await setupLogto({ cache: { timeoutMs: 50 } });
    emulator.faults.add({ target: 'token', delayMs: 300, times: 1 });
    await expect(tokens.getToken()).resolves.toMatch(/^eyJ/);
    expect(tokenRequestCount(emulator)).toBe(2);
    const again = await setupLogto({ cache: { timeoutMs: 50 } });
    again.emulator.faults.add({ target: 'token', delayMs: 300 });
    const error = await rejection<TokenEndpointError>(again.tokens.getToken());
    expect(error).toMatchObject({ oauthError: 'timeout', status: 0 });
    expect(tokenRequestCount(again.emulator)).toBe(4);
  });

  it('gives up after the retry budget with the last error', async () => {
    const { tokens, emulator } = await setupLogto();
    emulator.faults.add({ target: 'token', status: 500 });
    const error = await rejection<TokenEndpointError>(tokens.getToken());
    expect(error).toMatchObject({ status: 500 });
    expect(tokenRequestCount(emulator)).toBe(4);
  });

  it('sends client_credentials with Basic auth, the resource and scope=all', async () => {
    const { tokens, emulator } = await setupLogto();
    await tokens.getToken();
    expect(emulator.tokenRequests()).toEqual([
      { auth: 'basic', grantType: 'client_credentials', resource: emulator.resource, scope: 'all' },
    ]);
  });
});
