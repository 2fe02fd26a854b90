import { env } from 'cloudflare:workers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HookLogEntry } from '../emulator';
import { signLogtoBody } from '../emulator/webhooks';
import { logtoEventKey } from '../src/events';
import type { JournalEntry } from '../src/journal';
import { OWNER_TAG } from '../src/recipes/personal-organization';
import { emulatorToken } from './helpers';
import {
  callWorker,
  createUserViaApi,
  HOOK_URL,
  runCron,
  SIGNING_KEY,
  SIGNUP_ROLES,
  setupPipeline,
  useRecipes,
} from './pipeline';
import { testRuntime } from './worker-entry';

let pipeline: Awaited<ReturnType<typeof setupPipeline>>;
beforeAll(async () => {
  pipeline = await setupPipeline();
  useRecipes({
    personalOrganization: { organizationRoles: [] },
    stamps: { key: 'signUp' },
    reconcile: { enabled: false },
  });
});
afterAll(() => {
  testRuntime.recipes = undefined;
});

async function allEvents(): Promise<JournalEntry[]> {
  const entries: JournalEntry[] = [];
  let cursor: string | undefined;
  do {
    const page = await pipeline.journal.events.list({ limit: 100, cursor });
    entries.push(...page.entries);
    cursor = page.nextCursor;
  } while (cursor);
  return entries;
}

describe('recovery from Logto’s hook log: nothing Logto tried to send is lost', () => {
  it('journals every delivery the Worker refused, exactly once; the automations act once; a late live copy is a duplicate', async () => {
    const { emulator } = pipeline;
    const hookId = emulator.webhooks.hooks[0]?.id ?? '';
    const recoveringEnv = { ...env, LOGTO_HOOK_IDS: hookId };
    const admin = { id: env.LOGTO_M2M_APP_ID, secret: env.LOGTO_M2M_APP_SECRET };
    const api = async (method: string, path: string, body: unknown) =>
      emulator.fetch(`${emulator.endpoint}/api${path}`, {
        method,
        headers: {
          authorization: `Bearer ${await emulatorToken(emulator, admin)}`,
          'content-type': 'application/json',
          'user-agent': 'admin-tool/1.0',
        },
        body: JSON.stringify(body),
      });

    // The Worker is down: first it answers 503, then the connection is refused.
    emulator.webhooks.setDeliver(async () => new Response('unavailable', { status: 503 }));
    const signedUp = [];
    for (let i = 0; i < 15; i++) signedUp.push(await emulator.signUp({ username: `lost_${i}` }));
    for (let i = 0; i < 20; i++) await createUserViaApi(emulator, { username: `imported_${i}` });
    emulator.webhooks.setDrop(() => true);
    for (let i = 15; i < 30; i++) signedUp.push(await emulator.signUp({ username: `lost_${i}` }));
    for (let i = 0; i < 10; i++) await api('POST', '/roles', { name: `lost-role-${i}`, description: 'x' });
    for (let i = 0; i < 10; i++) {
      const org = (await (await api('POST', '/organizations', { name: `lost-org-${i}` })).json()) as {
        id: string;
      };
      await api('POST', `/organizations/${org.id}/users`, { userIds: [signedUp[i]?.id] });
    }
    await emulator.webhooks.settled();
    const failed = emulator.webhooks.log.filter((entry) => entry.payload.result === 'Error');
    expect(failed.length).toBeGreaterThanOrEqual(100);
    expect(new Set(failed.map((entry) => entry.key)).size).toBeGreaterThanOrEqual(5);
    expect(await pipeline.journal.events.counts()).toEqual({});

    // The Worker is back: live deliveries work again, and the recovery cron reads the hook log.
    emulator.webhooks.setDrop(() => false);
    emulator.webhooks.setDeliver((input, init) => callWorker(input, init));
    emulator.faults.resetCounts();
    await runCron('*/5 * * * *', recoveringEnv);
    await pipeline.drain();

    const journaled = await allEvents();
    const keys = new Set(journaled.map((entry) => entry.eventKey));
    expect(keys.size).toBe(journaled.length);
    const expected = new Set(
      await Promise.all(failed.map((entry: HookLogEntry) => logtoEventKey(entry.payload.hookRequest.body))),
    );
    // Every failed delivery is journaled, once, marked as recovered; the Worker's own writes since came live.
    for (const key of expected) expect(keys.has(key)).toBe(true);
    const recovered = journaled.filter((entry) => entry.arrivedVia === 'recovered');
    expect(recovered).toHaveLength(expected.size);
    expect(
      journaled.filter((entry) => entry.arrivedVia === 'delivered').every((entry) => entry.status === 'self'),
    ).toBe(true);
    // Recovery costs one Management API call per 100 log entries.
    expect(emulator.faults.count('GET /api/hooks/:id/recent-logs')).toBe(
      Math.ceil(emulator.webhooks.log.length / 100) || 1,
    );

    // The lost sign-ups got their role, one organization and a sign-up stamp; the automations acted once.
    for (const user of signedUp) {
      expect(pipeline.rolesOf(user.id)).toEqual([...SIGNUP_ROLES].sort());
      const orgs = [...emulator.store.organizations.values()].filter(
        (org) => org.customData[OWNER_TAG] === user.id,
      );
      expect(orgs).toHaveLength(1);
      expect(emulator.store.users.get(user.id)?.customData.signUp).toMatchObject({ source: 'sign-up' });
    }
    expect(emulator.faults.count('POST /api/organizations')).toBe(signedUp.length);

    // A late live delivery of a recovered event is a duplicate, and a second recovery finds nothing new.
    const late = failed.find((entry) => entry.key === 'TriggerHook.PostRegister');
    const raw = JSON.stringify(late?.payload.hookRequest.body);
    const answer = await callWorker(HOOK_URL, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'logto-signature-sha-256': await signLogtoBody(raw, SIGNING_KEY),
      },
      body: raw,
    });
    expect(await answer.json()).toMatchObject({ status: 'duplicate' });
    const before = (await allEvents()).length;
    await runCron('*/5 * * * *', recoveringEnv);
    await pipeline.drain();
    expect((await allEvents()).length).toBe(before);
  });
});
