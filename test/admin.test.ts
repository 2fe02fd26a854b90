import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_EMULATOR_APP } from '../emulator';
import { emulatorToken } from './helpers';
import { callWorker, SIGNUP_ROLES, setupPipeline } from './pipeline';

const ADMIN_RESOURCE = 'https://admin.automations.test';
const OPS = { id: 'ops-app', secret: 'ops-secret', hasAllScope: false };
const OTHER = { id: 'other-app', secret: 'other-secret', hasAllScope: false };
const adminEnv = {
  ...env,
  ADMIN_API_RESOURCE: ADMIN_RESOURCE,
  ADMIN_APP_IDS: `${OPS.id}, some-other-ops-app`,
  // Recovery finds the hook by its endpoint (the pipeline's hook posts to http://worker.test/webhooks/logto).
  WORKER_URL: 'http://worker.test',
};

let pipeline: Awaited<ReturnType<typeof setupPipeline>>;
beforeAll(async () => {
  pipeline = await setupPipeline({
    apps: [DEFAULT_EMULATOR_APP, OPS, OTHER],
    apiResources: [ADMIN_RESOURCE],
  });
});

const tokenFor = (app: { id: string; secret: string }, resource = ADMIN_RESOURCE) =>
  emulatorToken(pipeline.emulator, app, resource);

async function adminCall(
  path: string,
  init: RequestInit & { token?: string } = {},
  workerEnv: Env = adminEnv,
) {
  const headers = new Headers(init.headers);
  if (init.token !== undefined) headers.set('authorization', `Bearer ${init.token}`);
  if (init.body) headers.set('content-type', 'application/json');
  return callWorker(`http://worker.test/admin${path}`, { ...init, headers }, workerEnv);
}

describe('admin API authentication', () => {
  it('no token / garbage / a Management API token (wrong aud) → 401; another app’s admin token → 403; no detail', async () => {
    const cases: [string | undefined, number][] = [
      [undefined, 401],
      ['not-a-jwt', 401],
      [await tokenFor(DEFAULT_EMULATOR_APP, pipeline.emulator.resource), 401],
      [await tokenFor(OTHER), 403],
    ];
    for (const [token, status] of cases) {
      const response = await adminCall('/events', { token });
      expect(response.status).toBe(status);
      expect(Object.keys((await response.json()) as object)).toEqual(['error']);
    }
  });

  it('authenticates before it reads the rest of the configuration: a stranger learns nothing of a bad variable', async () => {
    const broken = { ...adminEnv, WEBHOOK_MAX_AGE_SECONDS: 'soon' };
    const stranger = await adminCall('/events', {}, broken);
    expect(stranger.status).toBe(401);
    expect(await stranger.json()).toEqual({ error: 'unauthorized' });
    const operator = await adminCall('/events', { token: await tokenFor(OPS) }, broken);
    expect(operator.status).toBe(503);
    expect(await operator.json()).toMatchObject({
      error: 'configuration_error',
      variable: 'WEBHOOK_MAX_AGE_SECONDS',
    });
  });

  it('the Bearer scheme is case-insensitive (RFC 7235)', async () => {
    const token = await tokenFor(OPS);
    for (const scheme of ['bearer', 'BEARER', 'Bearer']) {
      const response = await callWorker(
        'http://worker.test/admin/events',
        { headers: { authorization: `${scheme} ${token}` } },
        adminEnv,
      );
      expect(response.status).toBe(200);
    }
  });

  it('an expired admin token → 401', async () => {
    const token = await tokenFor(OPS);
    const later = { ...adminEnv };
    const { testRuntime } = await import('./worker-entry');
    testRuntime.now = () => Date.now() + 2 * 3600_000;
    try {
      expect((await adminCall('/events', { token }, later)).status).toBe(401);
    } finally {
      testRuntime.now = undefined;
    }
  });

  it('without ADMIN_API_RESOURCE the admin API is off → 503', async () => {
    const response = await adminCall('/events', { token: await tokenFor(OPS) }, env);
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ error: 'admin_not_configured' });
  });
});

describe('admin API: list, show, replay', () => {
  it('lists with filters and a cursor, shows one with its payload, replays a failed event to done', async () => {
    const { emulator } = pipeline;
    const token = await tokenFor(OPS);
    // A sign-up that fails because a role is missing, then is fixed and replayed.
    const beta = [...emulator.store.roles.values()].find((role) => role.name === SIGNUP_ROLES[1]);
    if (!beta) throw new Error('role missing');
    emulator.store.roles.delete(beta.id);
    const user = await emulator.signUp({ username: 'replay-me' });
    await emulator.signUp({ username: 'someone-else' });
    await pipeline.drain();

    const failedPage = (await (await adminCall('/events?status=failed', { token })).json()) as {
      events: { eventKey: string; subject: string; lastErrorCode: string; rawBody?: string }[];
    };
    // The first event of each sign-up failed; the second is covered by it.
    expect(failedPage.events.map((event) => event.lastErrorCode)).toEqual([
      'role_not_found',
      'role_not_found',
    ]);
    expect(failedPage.events[0]?.rawBody).toBeUndefined();

    const page1 = (await (await adminCall('/events?limit=3', { token })).json()) as {
      events: unknown[];
      nextCursor: string;
    };
    expect(page1.events).toHaveLength(3);
    const page2 = (await (
      await adminCall(`/events?limit=3&cursor=${encodeURIComponent(page1.nextCursor)}`, { token })
    ).json()) as { events: unknown[]; nextCursor: string | null };
    expect(page2.events).toHaveLength(1);
    expect(page2.nextCursor).toBeNull();
    const byType = (await (await adminCall('/events?type=PostRegister', { token })).json()) as {
      events: { eventType: string }[];
    };
    expect(byType.events.map((event) => event.eventType)).toEqual(['PostRegister', 'PostRegister']);
    const bySource = async (source: string) =>
      ((await (await adminCall(`/events?source=${source}`, { token })).json()) as { events: unknown[] })
        .events.length;
    expect(await bySource('logto')).toBeGreaterThan(0);
    expect(await bySource('stripe')).toBe(0);
    expect((await adminCall('/events?status=bogus', { token })).status).toBe(400);

    const target = failedPage.events.find((event) => event.subject === user.id);
    if (!target) throw new Error('no failed event for the user');
    const shown = (await (await adminCall(`/events/${target.eventKey}`, { token })).json()) as {
      payload: { event: string };
    };
    expect(['User.Created', 'PostRegister']).toContain(shown.payload.event);
    expect((await adminCall('/events/unknown-key', { token })).status).toBe(404);

    emulator.store.roles.set(beta.id, beta);
    const replay = await adminCall(`/events/${target.eventKey}/replay`, { token, method: 'POST' });
    expect(replay.status).toBe(202);
    await pipeline.drain();
    expect(pipeline.rolesOf(user.id)).toEqual([...SIGNUP_ROLES].sort());
    const after = (await (await adminCall(`/events/${target.eventKey}`, { token })).json()) as {
      status: string;
      replays: number;
    };
    expect(after).toMatchObject({ status: 'done', replays: 1 });
    // A running or received event cannot be replayed; an unknown one is 404.
    expect((await adminCall('/events/nope/replay', { token, method: 'POST' })).status).toBe(404);
  });

  it('replays every failed event in a time range; replaying done events changes nothing in Logto', async () => {
    const { emulator, journal } = pipeline;
    const token = await tokenFor(OPS);
    const response = await adminCall('/replay', {
      token,
      method: 'POST',
      body: JSON.stringify({ status: 'failed', since: new Date(Date.now() - 3600_000).toISOString() }),
    });
    expect(response.status).toBe(202);
    const result = (await response.json()) as { replayed: string[]; remaining: boolean };
    expect(result.replayed).toHaveLength(1);
    expect(result.remaining).toBe(false);
    await pipeline.drain();
    expect(await journal.events.counts()).toEqual({ done: 2, covered: 2 });

    // Replaying everything that is done: Logto's state is unchanged and no role was added.
    const rolesBefore = new Map(
      [...emulator.store.userRoles].map(([user, roles]) => [user, [...roles].sort()]),
    );
    const done = (await journal.events.list({ status: 'done' })).entries.map((entry) => entry.eventKey);
    const roleCalls = emulator.faults.count('POST /api/users/:userId/roles');
    const again = await adminCall('/replay', {
      token,
      method: 'POST',
      body: JSON.stringify({ eventKeys: done }),
    });
    expect(((await again.json()) as { replayed: string[] }).replayed).toHaveLength(2);
    await pipeline.drain();
    const rolesAfter = new Map(
      [...emulator.store.userRoles].map(([user, roles]) => [user, [...roles].sort()]),
    );
    expect(rolesAfter).toEqual(rolesBefore);
    // Done actions are not run again: not even an idempotent role POST reaches Logto.
    expect(emulator.faults.count('POST /api/users/:userId/roles')).toBe(roleCalls);
    for (const user of emulator.store.users.values()) {
      expect((await journal.actions.get(`signup-roles:${user.id}`))?.status).toBe('done');
    }
    expect(await journal.events.counts()).toEqual({ done: 2, covered: 2 });
  });
});

describe('npm run ops (scripts/ops-cli.ts) against the Worker', () => {
  it('gets a token with client_credentials, lists, shows and replays; never prints the token', async () => {
    const { runOpsCli } = await import('../scripts/ops-cli');
    const lines: string[] = [];
    // Token requests go to the emulator, admin calls to the Worker under test.
    const routed: typeof fetch = (input, init) => {
      const url = String(input instanceof Request ? input.url : input);
      return url.startsWith(pipeline.emulator.endpoint)
        ? pipeline.emulator.fetch(input, init)
        : callWorker(input, init, adminEnv);
    };
    const io = {
      env: {
        AUTOMATIONS_URL: 'http://worker.test',
        LOGTO_ENDPOINT: pipeline.emulator.endpoint,
        ADMIN_API_RESOURCE: ADMIN_RESOURCE,
        ADMIN_CLIENT_ID: OPS.id,
        ADMIN_CLIENT_SECRET: OPS.secret,
      },
      fetch: routed,
      print: (line: string) => lines.push(line),
    };
    expect(await runOpsCli(['list', '--status', 'done', '--all'], io)).toBe(0);
    expect(lines.at(-1)).toBe('2 event(s)');
    const key = lines[0]?.split(/\s+/)[4] ?? '';
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(await runOpsCli(['show', key], io)).toBe(0);
    expect(lines.join('\n')).toContain('"payload"');
    expect(await runOpsCli(['replay', key, 'not-a-key'], io)).toBe(1);
    expect(lines.slice(-2)).toEqual(['replayed 1, skipped 1', '  skipped not-a-key: not found']);
    await pipeline.drain();
    expect(await runOpsCli(['failed', '--since', '0'], io)).toBe(0);
    expect(lines.at(-1)).toBe('replayed 0 failed event(s)');
    // Recovery now: the hook is found by its endpoint; every delivery so far reached the Worker.
    expect(await runOpsCli(['recover'], io)).toBe(0);
    expect(lines.at(-1)).toMatch(/^hook \w+: \d+ log entries read, 0 failed deliveries, 0 recovered$/);
    expect(lines.join('\n')).not.toContain(OPS.secret);
    expect(lines.join('\n')).not.toMatch(/eyJ/);

    const denied: string[] = [];
    const wrongApp = {
      ...io,
      env: { ...io.env, ADMIN_CLIENT_ID: OTHER.id, ADMIN_CLIENT_SECRET: OTHER.secret },
      print: (l: string) => denied.push(l),
    };
    expect(await runOpsCli(['list'], wrongApp)).toBe(1);
    expect(denied).toEqual(['error: 403 {"error":"forbidden"}']);
  });
});
