import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newUser } from '../emulator/management-users';
import { invoicePaid } from '../examples/invoice-paid';
import { welcomeFlag } from '../examples/welcome-flag';
import type { AutomationInput } from '../src/automations';
import { parseLogtoEvent } from '../src/events';
import {
  automationsFromConfig,
  defineAutomation,
  github,
  LOGTO_EVENT_NAMES,
  logtoEventsOf,
  parseAutomationConfig,
  stripe,
} from '../src/recipes';
import { OWNER_TAG } from '../src/recipes/personal-organization';
import { createUserViaApi, runCron, SIGNUP_ROLES, setupPipeline, useRecipes } from './pipeline';
import { testRuntime } from './worker-entry';

let pipeline: Awaited<ReturnType<typeof setupPipeline>>;
const ORG_ROUTE = 'POST /api/organizations';
const STAFF_ORG = 'org-staff';

beforeAll(async () => {
  pipeline = await setupPipeline();
  const { store } = pipeline.emulator;
  for (const name of ['admin', 'member']) {
    store.organizationRoles.set(`orgrole-${name}`, {
      tenantId: 'default',
      id: `orgrole-${name}`,
      name,
      description: null,
      type: 'User',
    });
  }
  store.roles.set('role-staff', {
    tenantId: 'default',
    id: 'role-staff',
    name: 'staff',
    description: 'staff',
    type: 'User',
    isDefault: false,
  });
  store.organizations.set(STAFF_ORG, {
    tenantId: 'default',
    id: STAFF_ORG,
    name: 'Staff',
    description: null,
    customData: {},
    isMfaRequired: false,
    color: {},
    branding: {},
    customCss: null,
    createdAt: Date.now(),
  });
  useRecipes({
    personalOrganization: {
      name: ["{name}'s workspace", "{username}'s workspace"],
      organizationRoles: ['admin'],
    },
    rolesByRule: [{ name: 'staff', roles: ['staff'], when: { emailDomains: ['acme.test'] } }],
    organizationsByRule: [
      {
        name: 'github-users',
        organizationId: STAFF_ORG,
        organizationRoles: ['member'],
        when: { connectors: ['github'] },
      },
    ],
    stamps: { key: 'signUp' },
    reconcile: { enabled: true, cron: '*/15 * * * *', initialLookbackMinutes: 60 },
    // The sweep here repairs most of a small tenant: no share limit (test/brakes.test.ts checks the brakes).
    brakes: { maxUsers: 50, maxShare: null },
  });
});
afterAll(() => {
  testRuntime.recipes = undefined;
});

const personalOrgsOf = (userId: string) =>
  [...pipeline.emulator.store.organizations.values()].filter((org) => org.customData[OWNER_TAG] === userId);
const orgRolesOf = (orgId: string, userId: string) =>
  [...(pipeline.emulator.store.memberRoles.get(`${orgId}:${userId}`) ?? [])].map(
    (id) => pipeline.emulator.store.organizationRoles.get(id)?.name,
  );

/** Replays every event about `userId` (a new run each) and waits for them. */
async function replayAllOf(userId: string) {
  const { journal } = pipeline;
  const entries = (await journal.events.list({ limit: 100 })).entries.filter(
    (entry) => entry.subject === userId,
  );
  const { reopened } = await pipeline.enqueue.reopen(entries.map((entry) => entry.eventKey));
  await pipeline.drain();
  return reopened.length;
}

describe('recipes end to end (sign-up on the emulator → webhook → durable run → Logto state)', () => {
  it('personal organization: created once, user added with the admin role, ID recorded; replay and sweep change nothing', async () => {
    const { emulator } = pipeline;
    emulator.faults.resetCounts();
    const user = await emulator.signUp({ username: 'ada', name: 'Ada' });
    await pipeline.drain();
    const orgs = personalOrgsOf(user.id);
    expect(orgs.map((org) => org.name)).toEqual(["Ada's workspace"]);
    const org = orgs[0];
    if (!org) throw new Error('no organization');
    expect(emulator.store.members.get(org.id)?.has(user.id)).toBe(true);
    expect(orgRolesOf(org.id, user.id)).toEqual(['admin']);
    expect(emulator.store.users.get(user.id)?.customData.personalOrganizationId).toBe(org.id);
    // Stamp: how the user came and through which application.
    expect(emulator.store.users.get(user.id)?.customData.signUp).toMatchObject({ source: 'sign-up' });
    expect(emulator.faults.count(ORG_ROUTE)).toBe(1);
    const before = emulator.faults.counts();

    expect(await replayAllOf(user.id)).toBe(2);
    await runCron('*/15 * * * *');
    await pipeline.drain();
    expect(personalOrgsOf(user.id)).toHaveLength(1);
    // No write of any kind after the first time: replays and the sweep found every action done.
    const writes = (counts: Record<string, number>) =>
      Object.entries(counts)
        .filter(([route]) => /^(POST|PATCH|PUT|DELETE) \/api\//.test(route))
        .reduce((n, [, c]) => n + c, 0);
    expect(writes(emulator.faults.counts())).toBe(writes(before));
  });

  it('personal organization: an attempt that created the organization but failed before recording it is found, not repeated', async () => {
    const { emulator, journal } = pipeline;
    emulator.faults.resetCounts();
    emulator.faults.add({ target: 'PATCH /api/users/:userId/custom-data', status: 503, times: 1000 });
    const user = await emulator.signUp({ username: 'grace' });
    await pipeline.drain();
    emulator.faults.clear();
    expect(personalOrgsOf(user.id)).toHaveLength(1);
    expect(emulator.store.users.get(user.id)?.customData.personalOrganizationId).toBeUndefined();
    const failed = (await journal.events.list({ status: 'failed' })).entries.filter(
      (entry) => entry.subject === user.id,
    );
    expect(failed.length).toBeGreaterThan(0);

    await replayAllOf(user.id);
    const orgs = personalOrgsOf(user.id);
    expect(orgs).toHaveLength(1);
    expect(emulator.store.users.get(user.id)?.customData.personalOrganizationId).toBe(orgs[0]?.id);
    expect(emulator.faults.count(ORG_ROUTE)).toBe(1);
  });

  it('personal organization: a create whose answer was lost after it committed is found by its owner tag, not repeated', async () => {
    const { emulator, journal } = pipeline;
    emulator.faults.resetCounts();
    emulator.faults.add({ target: ORG_ROUTE, network: true, afterCommit: true, times: 1 });
    const user = await emulator.signUp({ username: 'lost-answer' });
    await pipeline.drain();
    emulator.faults.clear();
    const orgs = personalOrgsOf(user.id);
    expect(orgs).toHaveLength(1);
    expect(emulator.faults.count(ORG_ROUTE)).toBe(1);
    expect(emulator.store.users.get(user.id)?.customData.personalOrganizationId).toBe(orgs[0]?.id);
    const done = (await journal.events.list({ status: 'done' })).entries.find((e) => e.subject === user.id);
    expect(
      (done?.result as Record<string, { organizationId?: string }> | undefined)?.['personal-organization'],
    ).toMatchObject({
      organizationId: orgs[0]?.id,
    });
  });

  it('personal organization: a second organization tagged for the user is reported, never used', async () => {
    const { emulator, journal } = pipeline;
    emulator.webhooks.setDrop(() => true);
    const user = await emulator.signUp({ username: 'twice', name: 'Twice' });
    emulator.webhooks.setDrop(() => false);
    // Two organizations an earlier attempt's late commits left (the older first).
    for (const [id, createdAt] of [
      ['org-late-1', 1_000],
      ['org-late-2', 2_000],
    ] as const) {
      emulator.store.organizations.set(id, {
        tenantId: 'default',
        id,
        name: "Twice's workspace",
        description: null,
        customData: { [OWNER_TAG]: user.id },
        isMfaRequired: false,
        color: {},
        branding: {},
        customCss: null,
        createdAt,
      });
    }
    // The create's first attempt loses its connection (nothing committed): the next one is uncertain and looks.
    emulator.faults.add({ target: ORG_ROUTE, network: true, times: 1 });
    await runCron('*/15 * * * *');
    await pipeline.drain();
    emulator.faults.clear();
    expect(
      personalOrgsOf(user.id)
        .map((org) => org.id)
        .sort(),
    ).toEqual(['org-late-1', 'org-late-2']);
    expect(emulator.store.members.get('org-late-1')?.has(user.id)).toBe(true);
    expect(emulator.store.members.get('org-late-2')?.has(user.id) ?? false).toBe(false);
    const run = (await journal.events.list({ source: 'reconcile' })).entries.find(
      (e) => e.subject === user.id,
    );
    expect((run?.result as Record<string, unknown> | undefined)?.['personal-organization']).toMatchObject({
      organizationId: 'org-late-1',
      duplicates: ['org-late-2'],
    });
  });

  it('personal organization: an organization ID the user wrote into their own customData is not trusted', async () => {
    const { emulator } = pipeline;
    const victim = await emulator.signUp({ username: 'victim' });
    await pipeline.drain();
    const victimOrg = personalOrgsOf(victim.id)[0];
    if (!victimOrg) throw new Error('no organization for the victim');
    // Mallory's run fails (Logto refuses every organization for now), then Mallory points her customData (Logto's
    // Account API can let users edit it) at the victim's organization, and the run is replayed.
    emulator.faults.add({ target: ORG_ROUTE, status: 403, code: 'organization.quota_exceeded' });
    const mallory = await emulator.signUp({ username: 'mallory' });
    await pipeline.drain();
    emulator.faults.clear();
    const stored = emulator.store.users.get(mallory.id);
    if (!stored) throw new Error('no user');
    stored.customData = { ...stored.customData, personalOrganizationId: victimOrg.id };
    await replayAllOf(mallory.id);
    expect(emulator.store.members.get(victimOrg.id)?.has(mallory.id)).toBe(false);
    const own = personalOrgsOf(mallory.id);
    expect(own).toHaveLength(1);
    expect(emulator.store.members.get(own[0]?.id ?? '')?.has(mallory.id)).toBe(true);
    expect(emulator.store.users.get(mallory.id)?.customData.personalOrganizationId).toBe(own[0]?.id);
  });

  it('roles by rule: a verified (sign-up) email domain matches; the same domain set through the Management API does not', async () => {
    const { emulator } = pipeline;
    const signedUp = await emulator.signUp({ username: 'staffer', primaryEmail: 'staffer@acme.test' });
    const viaApi = await createUserViaApi(emulator, {
      username: 'imported',
      primaryEmail: 'imported@acme.test',
    });
    await pipeline.drain();
    expect(pipeline.rolesOf(signedUp.id)).toContain('staff');
    expect(pipeline.rolesOf(viaApi.id)).not.toContain('staff');
  });

  it('organization by rule: a social (GitHub) sign-up joins the staff organization with its role (Logto’s JIT skips social sign-ups)', async () => {
    const { emulator } = pipeline;
    const user = await emulator.signUp({ username: 'octo', identities: { github: { userId: '583231' } } });
    const plain = await emulator.signUp({ username: 'plain' });
    await pipeline.drain();
    expect(emulator.store.members.get(STAFF_ORG)?.has(user.id)).toBe(true);
    expect(orgRolesOf(STAFF_ORG, user.id)).toEqual(['member']);
    expect(emulator.store.members.get(STAFF_ORG)?.has(plain.id)).toBe(false);
  });

  it('users created through the Management API get no personal organization unless includeApiUsers is set', async () => {
    const { emulator } = pipeline;
    const user = await createUserViaApi(emulator, { username: 'api-made' });
    await pipeline.drain();
    expect(personalOrgsOf(user.id)).toHaveLength(0);
  });

  it('the sweep repairs every user whose webhooks were dropped, from facts (the audit log), and a second sweep changes nothing', async () => {
    const { emulator } = pipeline;
    emulator.webhooks.setDrop(() => true);
    const users = [];
    for (let i = 0; i < 12; i++) users.push(await emulator.signUp({ username: `dropped${i}` }));
    // Not sign-ups: a user created through the Management API, and a sign-up abandoned after identification.
    const imported = await createUserViaApi(emulator, { username: 'dropped-import' });
    const abandoned = await emulator.signUp({ username: 'dropped-abandoned', abandon: true });
    emulator.webhooks.setDrop(() => false);
    await pipeline.drain();
    for (const user of users) expect(personalOrgsOf(user.id)).toHaveLength(0);

    await runCron('*/15 * * * *');
    await pipeline.drain();
    for (const user of users) {
      const orgs = personalOrgsOf(user.id);
      expect(orgs).toHaveLength(1);
      expect(emulator.store.users.get(user.id)?.customData.personalOrganizationId).toBe(orgs[0]?.id);
      // A stored user does not say how it came (applicationId is null after a sign-up); the audit log does.
      expect(emulator.store.users.get(user.id)?.applicationId).toBeNull();
      expect(emulator.store.users.get(user.id)?.customData.signUp).toMatchObject({
        source: 'sign-up',
        applicationId: 'spa-app',
      });
      expect(pipeline.rolesOf(user.id)).toEqual(expect.arrayContaining([...SIGNUP_ROLES]));
    }
    for (const other of [imported, abandoned]) {
      expect(personalOrgsOf(other.id)).toHaveLength(0);
      expect(pipeline.rolesOf(other.id)).toEqual([]);
      expect(emulator.store.users.get(other.id)?.customData.signUp).toMatchObject({
        source: 'management-api',
      });
    }
    const { entries } = await pipeline.journal.events.list({ source: 'reconcile', limit: 100 });
    const repaired = new Set(entries.filter((e) => e.status === 'done').map((e) => e.subject));
    for (const user of users) expect(repaired.has(user.id)).toBe(true);
    const orgCalls = emulator.faults.count(ORG_ROUTE);
    await runCron('*/15 * * * *');
    await pipeline.drain();
    expect(emulator.faults.count(ORG_ROUTE)).toBe(orgCalls);
    for (const user of users) expect(personalOrgsOf(user.id)).toHaveLength(1);
  });

  it('dry-run: the journal says what would be done and Logto is unchanged', async () => {
    const { emulator, journal } = pipeline;
    const saved = testRuntime.recipes;
    useRecipes({ dryRun: true, personalOrganization: { organizationRoles: ['admin'] } });
    try {
      const user = await emulator.signUp({ username: 'dry' });
      await pipeline.drain();
      expect(personalOrgsOf(user.id)).toHaveLength(0);
      const entry = (await journal.events.list({ limit: 100 })).entries.find(
        (e) => e.subject === user.id && e.eventType === 'PostRegister',
      );
      expect(entry?.result).toMatchObject({
        'personal-organization': {
          dryRun: true,
          wouldDo: { wouldCreate: "dry's workspace", roles: ['admin'] },
        },
      });
      expect(await journal.actions.get(`personal-organization:${user.id}`)).toBeUndefined();
    } finally {
      testRuntime.recipes = saved;
    }
  });
});

describe('cleanup (opt-in, dry-run first)', () => {
  it('journals users who never signed in N days after creation; with dry-run off, suspends them — and not one who signed in', async () => {
    const { emulator, journal } = pipeline;
    const saved = testRuntime.recipes;
    const old = Date.now() - 40 * 86_400_000;
    const idle = newUser({ username: 'idle' }, old, 'idle-user');
    const active = { ...newUser({ username: 'active' }, old, 'active-user'), lastSignInAt: old + 1000 };
    emulator.store.users.set(idle.id, idle);
    emulator.store.users.set(active.id, active);
    try {
      useRecipes({ reconcile: { enabled: false }, cleanup: { enabled: true, neverSignedInDays: 30 } });
      await runCron('17 3 * * *');
      await pipeline.drain();
      const dry = (await journal.events.list({ source: 'cleanup', limit: 100 })).entries;
      expect(dry.map((entry) => entry.subject)).toContain('idle-user');
      expect(dry.map((entry) => entry.subject)).not.toContain('active-user');
      expect(dry.find((entry) => entry.subject === 'idle-user')?.result).toMatchObject({
        cleanup: { wouldDo: 'suspend' },
      });
      expect(emulator.store.users.get('idle-user')?.isSuspended).toBe(false);

      useRecipes({
        reconcile: { enabled: false },
        cleanup: { enabled: true, dryRun: false, neverSignedInDays: 30 },
      });
      await runCron('17 3 * * *');
      await pipeline.drain();
      expect(emulator.store.users.get('idle-user')?.isSuspended).toBe(true);
      expect(emulator.store.users.get('active-user')?.isSuspended).toBe(false);
      // Again: nothing new (the cursor moved; the action is done).
      const calls = emulator.faults.count('PATCH /api/users/:userId/is-suspended');
      await runCron('17 3 * * *');
      await pipeline.drain();
      expect(emulator.faults.count('PATCH /api/users/:userId/is-suspended')).toBe(calls);
    } finally {
      testRuntime.recipes = saved;
    }
  });
});

describe('each automation’s logtoEvents: exactly the Logto events its wants() can accept (npm run connect subscribes to them)', () => {
  // Every built-in automation and recipe, with conditions this user meets, plus handlers.
  const recipes = parseAutomationConfig({
    personalOrganization: { includeApiUsers: true },
    trustApiEmails: true,
    rolesByRule: [
      { name: 'staff', roles: ['staff'], when: { emailDomains: ['acme.test'] } },
      { name: 'mobile', roles: ['mobile'], when: { applications: ['app-1'] }, enforce: true },
    ],
    organizationsByRule: [
      { name: 'github-users', organizationId: 'org-1', when: { connectors: ['github'] } },
    ],
    stamps: { key: 'signUp', fields: ['source', 'connectors'] },
    github: github({ organizations: { acme: { roles: ['developer'] } } }),
    stripe: stripe({ prices: { price_1: { roles: ['pro'], plan: 'pro' } } }),
    cleanup: { enabled: true },
    handlers: [
      welcomeFlag,
      invoicePaid,
      defineAutomation({
        name: 'mixed',
        on: ['User.Deleted', 'Identifier.Lockout', 'stripe:*', 'github:*', 'webhook:*', 'reconcile'],
        run: async () => null,
      }),
    ],
  });
  const automations = automationsFromConfig(recipes, { signupRoleNames: ['member'] }, Date.now);
  const user = {
    ...newUser({ username: 'kim', primaryEmail: 'kim@acme.test', name: 'Kim' }, Date.now()),
    id: 'user-1',
    identities: { github: { userId: '42', details: {} } },
    applicationId: 'app-1',
  };
  const application = { id: 'app-1', type: 'SPA', name: 'App', description: null };
  /** Every field any payload shape could carry, as a sign-up (Experience API) and as a Management API change. */
  const payloads = (event: string) =>
    [true, false].map((signUp) => ({
      event,
      createdAt: new Date().toISOString(),
      hookId: 'hook-1',
      ...(signUp
        ? {
            interactionEvent: 'Register',
            sessionId: 's',
            applicationId: 'app-1',
            application,
            userIp: '127.0.0.1',
          }
        : {
            path: '/users',
            method: 'POST',
            status: 200,
            params: { userId: user.id },
            matchedRoute: '/users',
          }),
      userAgent: 'Mozilla/5.0',
      ip: '127.0.0.1',
      userId: user.id,
      user,
      data: user,
      organizationId: 'org-1',
      addedUserIds: [user.id],
      type: 'email',
      value: user.primaryEmail,
    }));
  const inputs = LOGTO_EVENT_NAMES.flatMap((name) =>
    payloads(name).flatMap((payload) => {
      const parsed = parseLogtoEvent(payload);
      return parsed.ok ? [{ name, input: { source: 'logto', event: parsed.event } as AutomationInput }] : [];
    }),
  );

  it('covers every built-in automation and every Logto event name', () => {
    expect(automations.map((automation) => automation.name)).toEqual([
      'signup-roles',
      'personal-organization',
      'roles-by-rule:staff',
      'roles-by-rule:mobile',
      'organization-by-rule:github-users',
      'custom-data-stamps',
      'github-identity-link',
      'github',
      'stripe',
      'cleanup',
      'welcome-flag',
      'invoice-paid',
      'mixed',
    ]);
    expect(new Set(inputs.map((item) => item.name))).toEqual(new Set(LOGTO_EVENT_NAMES));
  });

  it.each(automations.map((automation) => [automation.name, automation] as const))(
    '%s wants no Logto event outside its list, and some input of each event in it',
    (_, automation) => {
      for (const { name, input } of inputs) {
        if (!automation.logtoEvents.includes(name))
          expect(automation.wants(input), `${automation.name} wants ${name}`).toBe(false);
      }
      for (const name of automation.logtoEvents) {
        const wanted = inputs
          .filter((item) => item.name === name)
          .some((item) => automation.wants(item.input));
        expect(wanted, `${automation.name} never wants ${name}`).toBe(true);
      }
    },
  );

  it('the webhook subscribes to their union, in Logto’s order', () => {
    expect(logtoEventsOf(automations)).toEqual([
      'PostRegister',
      'User.Created',
      'User.Deleted',
      'Identifier.Lockout',
    ]);
    expect(
      logtoEventsOf(
        automationsFromConfig(
          parseAutomationConfig({ stripe: recipes.stripe }),
          { signupRoleNames: [] },
          Date.now,
        ),
      ),
    ).toEqual([]);
  });
});
