import { describe, expect, it } from 'vitest';
import { createLocalGovernor } from '../src/governor';
import type { LogtoApiError } from '../src/logto-client';
import { createClock, rejection, setupLogto, tokenRequestCount } from './helpers';

describe('Management API faults', () => {
  it('401 → drops the token (memory and KV), gets a new one, retries once', async () => {
    const { emulator, logto } = await setupLogto();
    const user = await logto.users.create({ username: 'rotating' });
    await emulator.rotateKeys({ dropOld: true }); // the cached token's signature no longer verifies
    await expect(logto.users.get(user.id)).resolves.toMatchObject({ id: user.id });
    expect(tokenRequestCount(emulator)).toBe(2);
    expect(emulator.faults.count('GET /api/users/:userId')).toBe(2);
  });

  it('a second 401 in a row is an error, not a loop', async () => {
    const { emulator, logto } = await setupLogto();
    emulator.faults.add({ target: 'api', status: 401 });
    const error = await rejection<LogtoApiError>(logto.users.get('any'));
    expect(error).toMatchObject({
      code: 'auth.unauthorized',
      logtoCode: 'auth.unauthorized',
      status: 401,
      httpStatus: 502,
    });
    expect(emulator.faults.count('GET /api/users/:userId')).toBe(2);
    expect(tokenRequestCount(emulator)).toBe(2);
  });

  it('429 honours Retry-After', async () => {
    const waits: number[] = [];
    const { emulator, logto } = await setupLogto({
      client: {
        sleep: async (ms) => void waits.push(ms),
        retry: { retries: 3, baseDelayMs: 1, maxDelayMs: 5_000 },
      },
    });
    emulator.faults.add({ target: 'GET /api/users/:userId', status: 429, retryAfterSeconds: 2, times: 1 });
    const error = await rejection<LogtoApiError>(logto.users.get('missing'));
    expect(error.logtoCode).toBe('entity.not_found'); // the retry reached the route
    expect(waits).toContain(2_000);
  });

  it('a Retry-After longer than the client waits inline surfaces as a typed, retryable error', async () => {
    const { emulator, logto } = await setupLogto();
    emulator.faults.add({ target: 'api', status: 429, retryAfterSeconds: 120 });
    const error = await rejection<LogtoApiError>(logto.users.get('x'));
    expect(error).toMatchObject({ status: 429, retryAfterMs: 120_000, retryable: true });
    expect(emulator.faults.count('GET /api/users/:userId')).toBe(1);
  });

  it('5xx and dropped connections are retried with bounded backoff, then fail with the last error', async () => {
    const { emulator, logto } = await setupLogto();
    emulator.faults.add({ target: 'GET /api/users', status: 502, times: 1 });
    emulator.faults.add({ target: 'GET /api/users', network: true, times: 1 });
    await expect(logto.users.search().next()).resolves.toMatchObject({ done: true });
    expect(emulator.faults.count('GET /api/users')).toBe(3);
    emulator.faults.add({ target: 'GET /api/users', status: 503 });
    const error = await rejection<LogtoApiError>(logto.users.search().next());
    expect(error).toMatchObject({ status: 503, retryable: true });
    expect(emulator.faults.count('GET /api/users')).toBe(3 + 4);
  });

  it('times out a slow call and retries it', async () => {
    const { emulator, logto } = await setupLogto({ client: { timeoutMs: 50 } });
    const user = await logto.users.create({ username: 'slow' });
    emulator.faults.add({ target: 'GET /api/users/:userId', delayMs: 300, times: 1 });
    await expect(logto.users.get(user.id)).resolves.toMatchObject({ id: user.id });
    emulator.faults.add({ target: 'GET /api/users/:userId', delayMs: 300 });
    const error = await rejection<LogtoApiError>(logto.users.get(user.id));
    expect(error).toMatchObject({ logtoCode: 'timeout', status: 0 });
  });

  it('does not repeat a non-idempotent create after an unknown outcome', async () => {
    const { emulator, logto } = await setupLogto();
    emulator.faults.add({ target: 'POST /api/organizations', status: 503, times: 1 });
    const error = await rejection<LogtoApiError>(logto.organizations.create({ name: 'Acme' }));
    expect(error.status).toBe(503);
    expect(emulator.faults.count('POST /api/organizations')).toBe(1);
  });

  it('4xx become typed errors with Logto’s code and status, not retried', async () => {
    const { emulator, logto } = await setupLogto();
    const error = await rejection<LogtoApiError>(logto.users.get('nobody'));
    expect(error).toMatchObject({ logtoCode: 'entity.not_found', status: 404, retryable: false });
    expect(emulator.faults.count('GET /api/users/:userId')).toBe(1);
  });

  it('identifies itself with the project User-Agent', async () => {
    const { emulator, logto } = await setupLogto();
    await logto.users.search().next();
    expect(Object.keys(emulator.faults.userAgents())).toEqual([
      expect.stringMatching(/^logto-automations\//),
    ]);
  });
});

describe('rate governor (its window arithmetic, one process)', () => {
  it('paces calls to the budget instead of tripping the server’s limit', async () => {
    const clock = createClock();
    const governor = createLocalGovernor({
      budget: { requests: 5, windowMs: 1_000 },
      now: clock.now,
      sleep: clock.sleep,
    });
    const { emulator, logto } = await setupLogto({
      emulator: { now: clock.now, rateLimit: { requests: 5, windowMs: 1_000 } },
      cache: { now: clock.now },
      client: { governor, governorWaitMs: 600_000, now: clock.now, sleep: clock.sleep },
    });
    const start = clock.now();
    for (let i = 0; i < 23; i++) await logto.users.search().next();
    expect(emulator.faults.status429()).toBe(0);
    expect(clock.now() - start).toBeGreaterThanOrEqual(4_000); // 23 calls at 5/s need four more windows
    // Control: the same burst without pacing does trip the emulator's limit.
    const unpaced = await setupLogto({
      emulator: { now: clock.now, rateLimit: { requests: 5, windowMs: 1_000 } },
      cache: { now: clock.now },
      client: { now: clock.now, sleep: async () => {} },
    });
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () => unpaced.logto.users.search().next()),
    );
    expect(unpaced.emulator.faults.status429()).toBeGreaterThan(0);
    expect(results.some((result) => result.status === 'rejected')).toBe(true);
  });
});

describe('a rejected token is replaced once', () => {
  it('403 auth.forbidden on a fresh-looking token drops it and retries once with a new one; a second 403 is an error', async () => {
    const { emulator, logto } = await setupLogto();
    await logto.users.search().next();
    emulator.faults.add({ target: 'api', status: 403, code: 'auth.forbidden', times: 1 });
    await logto.users.search().next();
    expect(emulator.faults.count('POST /oidc/token')).toBe(2);
    emulator.faults.add({ target: 'api', status: 403, code: 'auth.forbidden' });
    const error = await rejection<LogtoApiError>(logto.users.search().next());
    expect(error).toMatchObject({ status: 403, logtoCode: 'auth.forbidden' });
    expect(emulator.faults.count('POST /oidc/token')).toBe(3);
  });

  it('a 403 for another reason is not a token problem: no refresh', async () => {
    const { emulator, logto } = await setupLogto();
    await logto.users.search().next();
    emulator.faults.add({ target: 'api', status: 403, code: 'organization.quota_exceeded', times: 1 });
    await rejection(logto.users.search().next());
    expect(emulator.faults.count('POST /oidc/token')).toBe(1);
  });
});

describe('empty relation lists', () => {
  it('the client never sends one (Logto ≤ 1.42 answers 500): no call is made', async () => {
    const { emulator, logto } = await setupLogto();
    const user = await logto.users.create({ username: 'nobody_roles' });
    emulator.faults.resetCounts();
    expect(await logto.users.assignRoles(user.id, [])).toEqual({ roleIds: [], addedRoleIds: [] });
    await logto.organizations.assignUserRoles('org', user.id, {
      organizationRoleIds: [],
      organizationRoleNames: [],
    });
    await logto.organizations.addUsers('org', []);
    expect(Object.keys(emulator.faults.counts())).toEqual([]);
  });
});
