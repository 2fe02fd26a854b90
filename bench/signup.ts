import { BENCH_SIGNING_KEY, startBenchPipeline, waitForJournal } from './load';
import { machine, printTable, round } from './report';

/**
 * Sign-up benchmark: Management API calls per sign-up for the personal-organization recipe (organization role
 * "admin"), with warm caches (token, role names), against the Worker in local workerd and the emulator. Each sign-up
 * fires User.Created and PostRegister; one of them acts. The minimum the Logto API allows is 4 calls: create the
 * organization, add the member, assign the organization role (Logto accepts role names, so no lookup), record the
 * organization ID in the user's customData (the idempotency record) — the user's name comes with the event.
 */
const MINIMUM_CALLS_PER_SIGN_UP = 4;

export async function main(args: string[]) {
  const signUps = Number(args[0] ?? 200);
  const { emulator, runtime, close } = await startBenchPipeline(
    {},
    { SIGNUP_ROLE_NAMES: '' },
    'bench/workers/personal-org.ts',
  );
  emulator.store.organizationRoles.set('orgrole-admin', {
    tenantId: 'default',
    id: 'orgrole-admin',
    name: 'admin',
    description: null,
    type: 'User',
  });
  emulator.webhooks.add({ url: `${runtime.url}/webhooks/logto`, signingKey: BENCH_SIGNING_KEY });
  try {
    // Warm-up: the first sign-up fetches the token.
    await emulator.signUp({ username: 'warmup' });
    await waitForJournal(runtime.journal, 60_000);
    emulator.faults.resetCounts();

    const started = performance.now();
    const users = [];
    for (let i = 0; i < signUps; i += 20) {
      const batch = Array.from({ length: Math.min(20, signUps - i) }, (_, j) =>
        emulator.signUp({ username: `signup_${i + j}` }),
      );
      users.push(...(await Promise.all(batch)));
    }
    const drained = await waitForJournal(runtime.journal, 600_000);
    const seconds = (performance.now() - started) / 1000;

    const counts = emulator.faults.counts();
    const apiCalls = Object.entries(counts)
      .filter(([route]) => / \/api\//.test(route))
      .reduce((n, [, c]) => n + c, 0);
    const tokenCalls = Object.entries(counts)
      .filter(([route]) => route.includes('/oidc/token'))
      .reduce((n, [, c]) => n + c, 0);
    const withOrg = users.filter((user) => {
      const orgId = emulator.store.users.get(user.id)?.customData.personalOrganizationId;
      return typeof orgId === 'string' && emulator.store.members.get(orgId)?.has(user.id);
    }).length;
    const organizations = emulator.store.organizations.size - 1; // minus the warm-up's
    const perSignUp = apiCalls / signUps;
    printTable(`Sign-up: personal organization recipe, ${signUps} sign-ups (2 webhooks each), warm caches`, [
      ...Object.entries(counts)
        .filter(([route]) => / \/api\//.test(route))
        .map(([route, n]) => ({ figure: route, value: n })),
      { figure: 'token requests', value: tokenCalls },
      { figure: 'users with their organization (member, ID recorded)', value: `${withOrg} / ${signUps}` },
      { figure: 'organizations created', value: organizations },
      { figure: 'Management API calls per sign-up', value: round(perSignUp) },
      { figure: 'minimum the Logto API allows', value: MINIMUM_CALLS_PER_SIGN_UP },
      { figure: 'ratio to the minimum', value: round(perSignUp / MINIMUM_CALLS_PER_SIGN_UP) },
      { figure: 'journal', value: JSON.stringify(drained.counts) },
      { figure: 'time', value: `${round(seconds, 1)} s` },
    ]);
    console.log(
      JSON.stringify({
        bench: 'signup',
        recipe: 'personal-organization',
        signUps,
        callsPerSignup: round(perSignUp),
        minimum: MINIMUM_CALLS_PER_SIGN_UP,
        minimumReason:
          'create the organization, add the member, assign the organization role (by name), record its ID on the user',
        ratio: round(perSignUp / MINIMUM_CALLS_PER_SIGN_UP),
        managementApiCalls: apiCalls,
        tokenRequests: tokenCalls,
        organizationsCreated: organizations,
        usersWithOrganization: withOrg,
        timedOut: drained.timedOut === true,
        cores: machine().cores,
      }),
    );
  } finally {
    await close();
  }
}
