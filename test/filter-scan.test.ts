import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUserViaApi, runCron, SIGNUP_ROLES, setupPipeline, useRecipes } from './pipeline';
import { testRuntime } from './worker-entry';

/**
 * The reconciliation's filter scans: users Logto's own filters say are out of policy (`excludeRoleId`,
 * `excludeOrganizationId`), across the whole tenant and not only since the cursor, once per `filterEveryHours`.
 */
const TEAM_ORG = 'team-org';
let pipeline: Awaited<ReturnType<typeof setupPipeline>>;
/** One clock for Logto and the Worker, so the test can move a day ahead. */
let offsetMs = 0;
const clock = () => Date.now() + offsetMs;
beforeAll(async () => {
  pipeline = await setupPipeline({ now: clock });
  testRuntime.now = clock;
  pipeline.emulator.store.organizations.set(TEAM_ORG, {
    tenantId: 'default',
    id: TEAM_ORG,
    name: 'Team',
    description: null,
    customData: {},
    isMfaRequired: false,
    color: {},
    branding: {},
    customCss: null,
    createdAt: Date.now(),
  });
  pipeline.emulator.store.roles.set('role-staff', {
    tenantId: 'default',
    id: 'role-staff',
    name: 'staff',
    description: 'staff',
    type: 'User',
    isDefault: false,
  });
  useRecipes({
    // Enforced: re-added in each filter pass if removed. The others act once.
    rolesByRule: [{ name: 'staff', roles: ['staff'], when: { applications: ['spa-app'] }, enforce: true }],
    organizationsByRule: [{ name: 'team', organizationId: TEAM_ORG, when: { applications: ['spa-app'] } }],
    reconcile: { enabled: true, cron: '*/15 * * * *', initialLookbackMinutes: 60, filterEveryHours: 24 },
    brakes: { maxUsers: 50, maxShare: null },
  });
});
afterAll(() => {
  testRuntime.recipes = undefined;
  testRuntime.now = undefined;
});

describe('filter scans (excludeRoleId / excludeOrganizationId)', () => {
  it('repairs sign-ups older than the cursor, never an API user, re-adds what an admin removed only for an enforced rule, once per period', async () => {
    const { emulator, journal } = pipeline;
    emulator.webhooks.setDrop(() => true);
    const old = [];
    for (let i = 0; i < 4; i++) old.push(await emulator.signUp({ username: `old${i}` }));
    const imported = await createUserViaApi(emulator, { username: 'old-import' });
    emulator.webhooks.setDrop(() => false);
    // Created a month ago: before any cursor the sweep keeps (its first run looks back an hour).
    for (const user of [...old, imported]) {
      const stored = emulator.store.users.get(user.id);
      if (stored) stored.createdAt = Date.now() - 30 * 86_400_000;
    }
    await runCron('*/15 * * * *');
    await pipeline.drain();
    for (const user of old) {
      expect(pipeline.rolesOf(user.id)).toEqual([...SIGNUP_ROLES, 'staff'].sort());
      expect(emulator.store.members.get(TEAM_ORG)?.has(user.id)).toBe(true);
    }
    expect(pipeline.rolesOf(imported.id)).toEqual([]);
    // Four filters found each user in the same period: one journal event per user.
    const reconciled = (await journal.events.list({ source: 'reconcile', limit: 100 })).entries;
    expect(reconciled.map((entry) => entry.subject).sort()).toEqual(old.map((user) => user.id).sort());
    expect(emulator.store.members.get(TEAM_ORG)?.has(imported.id) ?? false).toBe(false);
    const scans = await Promise.all(
      Object.values(pipeline.roleIds).map((id) => journal.scans.get(`filter:role:${id}`)),
    );
    expect(scans.every((scan) => scan?.lastFinishedAt)).toBe(true);

    // An admin removes a sign-up role and the membership of one user.
    const [first] = old;
    const roleId = pipeline.roleIds[SIGNUP_ROLES[0] ?? ''] ?? '';
    emulator.store.userRoles.get(first?.id ?? '')?.delete(roleId);
    emulator.store.userRoles.get(first?.id ?? '')?.delete('role-staff');
    emulator.store.members.get(TEAM_ORG)?.delete(first?.id ?? '');
    // Within the period: no pass (no user list read).
    const reads = emulator.faults.count('GET /api/users');
    await runCron('*/15 * * * *');
    await pipeline.drain();
    const afterQuiet = emulator.faults.count('GET /api/users');
    expect(afterQuiet - reads).toBe(1); // the cursor scan's page only
    // A day later the filters run again: the removal stands (the actions were done once). The run starter is idle
    // first (no alarm pending): its alarms must run on the wall clock, not on the journal's clock a day ahead.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    offsetMs = 25 * 3_600_000;
    await runCron('*/15 * * * *');
    await pipeline.drain();
    expect(emulator.faults.count('GET /api/users') - afterQuiet).toBeGreaterThan(1);
    // The enforced rule's role is back; the sign-up role and the membership stay removed.
    expect(pipeline.rolesOf(first?.id ?? '')).toEqual([SIGNUP_ROLES[1], 'staff'].sort());
    expect(emulator.store.members.get(TEAM_ORG)?.has(first?.id ?? '') ?? false).toBe(false);
  });
});
