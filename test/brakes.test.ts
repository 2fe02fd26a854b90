import { env } from 'cloudflare:workers';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_EMULATOR_APP } from '../emulator';
import { OWNER_TAG } from '../src/recipes/personal-organization';
import { overLimit } from '../src/sweep';
import { captureLogs, emulatorToken } from './helpers';
import { callWorker, runCron, setupPipeline, useRecipes } from './pipeline';
import { testRuntime } from './worker-entry';

/**
 * Brakes on mass change: a reconciliation run, a cleanup run or a bulk replay over the limits acts on nobody until
 * an operator approves it; within the limits it acts at once. Real timers and real per-request I/O contexts.
 */
const ADMIN_RESOURCE = 'https://admin.automations.test';
const OPS = { id: 'ops-app', secret: 'ops-secret', hasAllScope: false };
const adminEnv = { ...env, ADMIN_API_RESOURCE: ADMIN_RESOURCE, ADMIN_APP_IDS: OPS.id };
const ORG_ROUTE = 'POST /api/organizations';

let pipeline: Awaited<ReturnType<typeof setupPipeline>>;
beforeAll(async () => {
  pipeline = await setupPipeline({ apps: [DEFAULT_EMULATOR_APP, OPS], apiResources: [ADMIN_RESOURCE] });
});
afterAll(() => {
  testRuntime.recipes = undefined;
});

const recipes = (brakes: { maxUsers?: number; maxShare?: number | null }) =>
  useRecipes({
    personalOrganization: { organizationRoles: [] },
    reconcile: { enabled: true, cron: '*/15 * * * *', initialLookbackMinutes: 60 },
    brakes,
  });

const personalOrgsOf = (userId: string) =>
  [...pipeline.emulator.store.organizations.values()].filter((org) => org.customData[OWNER_TAG] === userId);

async function admin(path: string, init: RequestInit = {}) {
  const token = await emulatorToken(pipeline.emulator, OPS, ADMIN_RESOURCE);
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${token}`);
  if (init.body) headers.set('content-type', 'application/json');
  const response = await callWorker(`http://worker.test/admin${path}`, { ...init, headers }, adminEnv);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Signs up `n` users whose runs fail for good: Logto refuses every organization create (403, not retryable). */
async function failingSignUps(prefix: string, n: number) {
  const { emulator } = pipeline;
  emulator.faults.add({ target: ORG_ROUTE, status: 403, code: 'organization.quota_exceeded' });
  const users = [];
  for (let i = 0; i < n; i++) users.push(await emulator.signUp({ username: `${prefix}${i}` }));
  await pipeline.drain();
  emulator.faults.clear();
  return users;
}

/** Signs up `n` users whose webhooks Logto never delivers (the sweep's job). */
async function lostSignUps(prefix: string, n: number) {
  const { emulator } = pipeline;
  emulator.webhooks.setDrop(() => true);
  const users = [];
  for (let i = 0; i < n; i++) users.push(await emulator.signUp({ username: `${prefix}${i}` }));
  emulator.webhooks.setDrop(() => false);
  return users;
}

describe('brakes: the limits', () => {
  it('maxUsers always; maxShare of the tenant from 10 users', () => {
    const brakes = { maxUsers: 50, maxShare: 0.2 };
    expect(overLimit(50, null, brakes)).toBeNull();
    expect(overLimit(51, null, brakes)).toMatch(/51 users > maxUsers 50/);
    expect(overLimit(9, 20, brakes)).toBeNull();
    expect(overLimit(10, 50, brakes)).toBeNull();
    expect(overLimit(11, 50, brakes)).toMatch(/maxShare 0.2 of 50 users \(10\)/);
    expect(overLimit(11, 50, { maxUsers: 50, maxShare: null })).toBeNull();
  });
});

describe('brakes on the reconciliation sweep', () => {
  it('over the limit: nothing is done, a held batch previews who and what; approval acts once, a second sweep adds nothing', async () => {
    recipes({ maxUsers: 5, maxShare: null });
    const { emulator, journal } = pipeline;
    const users = await lostSignUps('held', 8);
    const orgCalls = emulator.faults.count(ORG_ROUTE);
    await runCron('*/15 * * * *');
    await pipeline.drain();
    expect(emulator.faults.count(ORG_ROUTE)).toBe(orgCalls);
    expect((await journal.events.list({ source: 'reconcile' })).entries).toHaveLength(0);

    const listed = await admin('/batches?status=held');
    const batches = listed.body.batches as {
      batchId: string;
      itemCount: number;
      kind: string;
      reason: string;
    }[];
    expect(batches).toHaveLength(1);
    const batch = batches[0];
    expect(batch).toMatchObject({ kind: 'reconcile', itemCount: 8 });
    expect(batch?.reason).toMatch(/8 users > maxUsers 5/);
    const shown = await admin(`/batches/${encodeURIComponent(batch?.batchId ?? '')}`);
    const items = shown.body.items as {
      subject: string;
      preview: { user: { username: string }; automations: string[] };
    }[];
    expect(items.map((item) => item.subject).sort()).toEqual(users.map((user) => user.id).sort());
    expect(items[0]?.preview.automations).toContain('personal-organization');
    expect(items.map((item) => item.preview.user.username).sort()).toEqual(
      users.map((_, i) => `held${i}`).sort(),
    );

    const approved = await admin(`/batches/${encodeURIComponent(batch?.batchId ?? '')}/approve`, {
      method: 'POST',
    });
    expect(approved.status).toBe(202);
    expect(approved.body).toMatchObject({
      released: 8,
      remaining: false,
      batch: { status: 'released', decidedBy: OPS.id },
    });
    // A second approval is refused: the decision was taken.
    expect(
      (await admin(`/batches/${encodeURIComponent(batch?.batchId ?? '')}/approve`, { method: 'POST' }))
        .status,
    ).toBe(409);
    await pipeline.drain();
    for (const user of users) expect(personalOrgsOf(user.id)).toHaveLength(1);

    const after = emulator.faults.count(ORG_ROUTE);
    await runCron('*/15 * * * *');
    await pipeline.drain();
    expect(emulator.faults.count(ORG_ROUTE)).toBe(after);
    expect(((await admin('/batches?status=held')).body.batches as unknown[]).length).toBe(0);
  });

  it('within the limit the sweep acts at once; a discarded batch is never acted on', async () => {
    recipes({ maxUsers: 5, maxShare: null });
    const few = await lostSignUps('few', 3);
    await runCron('*/15 * * * *');
    await pipeline.drain();
    for (const user of few) expect(personalOrgsOf(user.id)).toHaveLength(1);

    const many = await lostSignUps('discard', 6);
    await runCron('*/15 * * * *');
    await pipeline.drain();
    const held = (await admin('/batches?status=held')).body.batches as { batchId: string }[];
    expect(held).toHaveLength(1);
    const id = encodeURIComponent(held[0]?.batchId ?? '');
    const logs = captureLogs();
    expect((await admin(`/batches/${id}/discard`, { method: 'POST' })).body).toMatchObject({
      batch: { status: 'discarded', decidedBy: OPS.id },
    });
    expect(logs.lines).toContainEqual(
      expect.objectContaining({ msg: 'batch.discarded', by: OPS.id, via: 'admin', count: 6 }),
    );
    vi.restoreAllMocks();
    expect((await admin(`/batches/${id}/approve`, { method: 'POST' })).status).toBe(409);
    await runCron('* * * * *');
    await pipeline.drain();
    for (const user of many) expect(personalOrgsOf(user.id)).toHaveLength(0);
    // The next sweep re-reads the overlap: the discarded users are not proposed again.
    await runCron('*/15 * * * *');
    await pipeline.drain();
    expect(((await admin('/batches?status=held')).body.batches as unknown[]).length).toBe(0);
    for (const user of many) expect(personalOrgsOf(user.id)).toHaveLength(0);
  });

  it('the share of the tenant holds a run too', async () => {
    const { emulator } = pipeline;
    recipes({ maxUsers: 1000, maxShare: 0.1 });
    const users = await lostSignUps('share', 12);
    expect(emulator.store.users.size).toBeLessThan(120);
    await runCron('*/15 * * * *');
    await pipeline.drain();
    const held = (await admin('/batches?status=held')).body.batches as { batchId: string; reason: string }[];
    expect(held).toHaveLength(1);
    expect(held[0]?.reason).toMatch(/12 users > maxShare 0.1 of \d+ users/);
    for (const user of users) expect(personalOrgsOf(user.id)).toHaveLength(0);
    await admin(`/batches/${encodeURIComponent(held[0]?.batchId ?? '')}/discard`, { method: 'POST' });
  });
});

describe('brakes on bulk replay', () => {
  it('a dry run counts; over the limit the replay is held, and approval replays each event once', async () => {
    recipes({ maxUsers: 3, maxShare: null });
    const { journal } = pipeline;
    // Five sign-ups fail for good: Logto refuses every organization create with a non-retryable error.
    const users = await failingSignUps('replay', 5);
    const failed = (await journal.events.list({ status: 'failed', limit: 100 })).entries;
    expect(failed.length).toBeGreaterThanOrEqual(5);

    const dry = await admin('/replay', {
      method: 'POST',
      body: JSON.stringify({ status: 'failed', dryRun: true }),
    });
    expect(dry.body).toMatchObject({ dryRun: true, count: failed.length, wouldHold: true, maxUsers: 3 });
    expect((await journal.events.list({ status: 'failed', limit: 100 })).entries).toHaveLength(failed.length);

    const held = await admin('/replay', { method: 'POST', body: JSON.stringify({ status: 'failed' }) });
    expect(held.status).toBe(202);
    const batch = held.body.held as { batchId: string; count: number };
    expect(batch.count).toBe(failed.length);
    expect((await journal.events.list({ status: 'failed', limit: 100 })).entries).toHaveLength(failed.length);

    const approved = await admin(`/batches/${encodeURIComponent(batch.batchId)}/approve`, { method: 'POST' });
    expect(approved.body).toMatchObject({ released: failed.length, remaining: false });
    await pipeline.drain();
    for (const user of users) expect(personalOrgsOf(user.id)).toHaveLength(1);
    expect((await journal.events.list({ status: 'failed', limit: 100 })).entries).toHaveLength(0);
  });
});

describe('brakes on bulk replay: the share of the tenant', () => {
  it('a replay of more than maxShare of the tenant (from 10 events) is held even under maxUsers', async () => {
    recipes({ maxUsers: 1000, maxShare: 0.05 });
    const { emulator, journal } = pipeline;
    await failingSignUps('share-replay', 12);
    const failed = (await journal.events.list({ status: 'failed', limit: 100 })).entries.length;
    expect(failed).toBeGreaterThanOrEqual(12);
    expect(emulator.store.users.size * 0.05).toBeLessThan(failed);
    const dry = await admin('/replay', {
      method: 'POST',
      body: JSON.stringify({ status: 'failed', dryRun: true }),
    });
    expect(dry.body).toMatchObject({
      wouldHold: true,
      reason: expect.stringMatching(/maxShare 0.05 of \d+ users/),
    });
    const held = await admin('/replay', { method: 'POST', body: JSON.stringify({ status: 'failed' }) });
    expect(held.body).toMatchObject({ held: { count: failed } });
    const id = encodeURIComponent((held.body.held as { batchId: string }).batchId);
    await admin(`/batches/${id}/approve`, { method: 'POST' });
    await pipeline.drain();
  });
});

/** `npm run ops` against the Worker under test, as the operator OPS, printing into `lines`. */
const cliIo = async (lines: string[]) => ({
  env: {
    AUTOMATIONS_URL: 'http://worker.test',
    ADMIN_TOKEN: await emulatorToken(pipeline.emulator, OPS, ADMIN_RESOURCE),
  },
  fetch: ((input, init) => callWorker(input, init, adminEnv)) as typeof fetch,
  print: (line: string) => lines.push(line),
});

describe('brakes from the CLI (npm run ops)', () => {
  it('failed --dry-run counts, failed holds, batches/batch show the preview, approve acts', async () => {
    recipes({ maxUsers: 2, maxShare: null });
    const { runOpsCli } = await import('../scripts/ops-cli');
    const { journal } = pipeline;
    const users = await failingSignUps('cli', 3);
    const failed = (await journal.events.list({ status: 'failed', limit: 100 })).entries.length;
    expect(failed).toBeGreaterThanOrEqual(3);

    const lines: string[] = [];
    const io = await cliIo(lines);
    expect(await runOpsCli(['failed', '--dry-run', '--since', '0'], io)).toBe(0);
    expect(lines.at(-1)).toBe(
      `${failed} failed event(s) would be replayed (more than maxUsers 2: held for approval)`,
    );
    expect(await runOpsCli(['failed', '--since', '0'], io)).toBe(0);
    const batchId = /held as batch (\S+):/.exec(lines.at(-1) ?? '')?.[1] ?? '';
    expect(batchId).toMatch(/^replay:/);
    expect(await runOpsCli(['batches', '--status', 'held'], io)).toBe(0);
    expect(lines.at(-2)).toContain(batchId);
    expect(await runOpsCli(['batch', batchId], io)).toBe(0);
    expect(lines.join('\n')).toContain(users[0]?.id);
    expect(await runOpsCli(['approve', batchId], io)).toBe(0);
    expect(lines.at(-1)).toBe(`approved ${batchId}: ${failed} of ${failed} started now`);
    await pipeline.drain();
    for (const user of users) expect(personalOrgsOf(user.id)).toHaveLength(1);
    expect(await runOpsCli(['discard', batchId], io)).toBe(1);
    expect(lines.at(-1)).toMatch(/^error: 409 .*not_held/);
  });

  it('failed shows a progress bar over the counted total; list filters by user and arrival', async () => {
    recipes({ maxUsers: 50, maxShare: null });
    const { runOpsCli } = await import('../scripts/ops-cli');
    const users = await failingSignUps('bar', 2);
    const lines: string[] = [];
    const bars: { label: string; total: number; updates: number[]; stopped: boolean }[] = [];
    const io = {
      ...(await cliIo(lines)),
      progress: (label: string, total: number) => {
        const bar = { label, total, updates: [] as number[], stopped: false };
        bars.push(bar);
        return { update: (done: number) => bar.updates.push(done), stop: () => (bar.stopped = true) };
      },
    };
    expect(await runOpsCli(['list', '--user', users[0]?.id ?? '', '--via', 'delivered', '--all'], io)).toBe(
      0,
    );
    const listed = lines.filter((line) => line.includes(' failed '));
    expect(listed.length).toBeGreaterThan(0);
    expect(listed.every((line) => line.includes(users[0]?.id ?? ''))).toBe(true);
    expect(await runOpsCli(['failed', '--since', '0'], io)).toBe(0);
    expect(bars).toHaveLength(1);
    expect(bars[0]?.total).toBeGreaterThanOrEqual(2);
    expect(bars[0]?.updates.at(-1)).toBe(bars[0]?.total);
    expect(bars[0]?.stopped).toBe(true);
    await pipeline.drain();
    for (const user of users) expect(personalOrgsOf(user.id)).toHaveLength(1);
  });
});
