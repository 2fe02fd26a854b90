import { env } from 'cloudflare:workers';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_EMULATOR_APP } from '../emulator';
import { OWNER_TAG } from '../src/recipes/personal-organization';
import { emulatorToken } from './helpers';
import { callWorker, runCron, setupPipeline, useRecipes } from './pipeline';
import { testRuntime } from './worker-entry';

const ADMIN_RESOURCE = 'https://admin.automations.test';
const OPS = { id: 'ops-app', secret: 'ops-secret', hasAllScope: false };
const adminEnv = { ...env, ADMIN_API_RESOURCE: ADMIN_RESOURCE, ADMIN_APP_IDS: OPS.id };
const LOST = 60;

afterAll(() => {
  testRuntime.sleep = undefined;
  testRuntime.recipes = undefined;
});

/**
 * A held batch approved twice at once while minute crons release it concurrently, with real timers and Logto
 * faults: one approval wins, every held user is journaled once and gets one organization.
 */
describe('brakes under races and faults (real timers)', () => {
  it(`${LOST} lost sign-ups: held, approved twice concurrently, released by racing crons; each acted on once`, async () => {
    testRuntime.sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
    useRecipes({
      personalOrganization: { organizationRoles: [] },
      reconcile: { enabled: true, cron: '*/15 * * * *', initialLookbackMinutes: 60 },
      brakes: { maxUsers: 10, maxShare: null },
    });
    const pipeline = await setupPipeline({
      seed: 7,
      realRuntime: true,
      apps: [DEFAULT_EMULATOR_APP, OPS],
      apiResources: [ADMIN_RESOURCE],
    });
    const { emulator, journal } = pipeline;
    emulator.webhooks.setDrop(() => true);
    const users = await Promise.all(
      Array.from({ length: LOST }, (_, i) => emulator.signUp({ username: `race${i}` })),
    );
    emulator.webhooks.setDrop(() => false);
    await pipeline.drain();

    emulator.faults.add({ target: 'api', status: 503, probability: 0.05 });
    emulator.faults.add({
      target: 'POST /api/organizations',
      network: true,
      afterCommit: true,
      probability: 0.1,
    });
    await runCron('*/15 * * * *');
    const [held] = await journal.batches.list({ status: 'held' });
    expect(held).toMatchObject({ kind: 'reconcile', itemCount: LOST });
    expect((await journal.events.list({ source: 'reconcile' })).entries).toHaveLength(0);

    const token = await emulatorToken(emulator, OPS, ADMIN_RESOURCE);
    const approve = () =>
      callWorker(
        `http://worker.test/admin/batches/${encodeURIComponent(held?.batchId ?? '')}/approve`,
        { method: 'POST', headers: { authorization: `Bearer ${token}` } },
        adminEnv,
      ).then((response) => response.status);
    const [statuses] = await Promise.all([
      Promise.all([approve(), approve()]),
      ...Array.from({ length: 3 }, () => runCron('* * * * *')),
    ]);
    expect([...statuses].sort()).toEqual([202, 409]);
    await pipeline.drain(60_000);
    emulator.faults.clear();

    const reconciled = (await journal.events.list({ source: 'reconcile', limit: 100 })).entries;
    expect(reconciled).toHaveLength(LOST);
    expect(new Set(reconciled.map((entry) => entry.subject)).size).toBe(LOST);
    expect(reconciled.every((entry) => entry.status === 'done')).toBe(true);
    for (const user of users) {
      const orgs = [...emulator.store.organizations.values()].filter(
        (org) => org.customData[OWNER_TAG] === user.id,
      );
      expect(orgs).toHaveLength(1);
    }
    expect(await journal.batches.get(held?.batchId ?? '')).toMatchObject({
      status: 'released',
      decidedBy: OPS.id,
    });
  }, 90_000);
});
