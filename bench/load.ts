import { DEFAULT_EMULATOR_APP, type LogtoEmulatorOptions } from '../emulator';
import { newUser } from '../emulator/management-users';
import { serveEmulator } from '../emulator/serve';
import type { TenantStore } from '../emulator/store';
import { signLogtoBody } from '../emulator/webhooks';
import { startRuntime } from './runtime.mjs';

let serial = 0;
/** A signed PostRegister for a new user (created in the emulator's store so its run can finish). */
export async function signedSignUp(store: TenantStore, key: string) {
  const id = `bench${(++serial).toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  store.users.set(id, newUser({ username: id }, Date.now(), id));
  const body = JSON.stringify({
    event: 'PostRegister',
    interactionEvent: 'Register',
    createdAt: new Date().toISOString(),
    sessionId: 'bench-session',
    userAgent: 'Mozilla/5.0 (bench)',
    userId: id,
    userIp: '127.0.0.1',
    user: { id, username: id, primaryEmail: null, customData: {}, identities: {} },
    application: { id: 'bench-app', type: 'SPA', name: 'bench', description: null },
    hookId: 'bench-hook',
  });
  return { body, signature: await signLogtoBody(body, key) };
}

/** Sends `requests` with `concurrency` in flight; returns elapsed ms and statuses. */
export async function drive(
  requests: { send: () => Promise<Response> }[],
  concurrency: number,
): Promise<{ ms: number; statuses: Record<number, number> }> {
  const statuses: Record<number, number> = {};
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests.length) {
        const request = requests[next++];
        if (!request) break;
        const response = await request.send();
        await response.arrayBuffer();
        statuses[response.status] = (statuses[response.status] ?? 0) + 1;
      }
    }),
  );
  return { ms: performance.now() - started, statuses };
}

/** Waits until the journal has no `received`/`running` event; returns the counts per status and the time taken. */
export async function waitForJournal(journal: D1Database, timeoutMs: number) {
  const started = performance.now();
  for (;;) {
    let results: { status: string; n: number }[];
    try {
      ({ results } = await journal
        .prepare('SELECT status, COUNT(*) AS n FROM events GROUP BY status')
        .all<{ status: string; n: number }>());
    } catch {
      // Miniflare's binding proxy can drop a request while workerd is saturated: ask again.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      continue;
    }
    const counts = Object.fromEntries(results.map((row) => [row.status, Number(row.n)]));
    if (process.env.BENCH_TRACE)
      console.error(`TRACE ${((performance.now() - started) / 1000).toFixed(1)} ${JSON.stringify(counts)}`);
    if (!counts.received && !counts.running) return { counts, ms: performance.now() - started };
    if (performance.now() - started > timeoutMs)
      return { counts, ms: performance.now() - started, timedOut: true };
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Signing key and sign-up role of the benchmarked pipeline. */
export const BENCH_SIGNING_KEY = 'bench-signing-key';
export const BENCH_ROLE = 'member';
export const BENCH_ROLE_ID = 'role-member';

/**
 * The emulator on 127.0.0.1 (with the sign-up role) and the Worker in local workerd configured against it, assigning
 * that role on sign-up. `vars` adds or overrides Worker variables.
 */
export async function startBenchPipeline(
  emulatorOptions: LogtoEmulatorOptions = {},
  vars: Record<string, string> = {},
  entry?: string,
  callers: { name: string; entry: string; vars?: Record<string, string> }[] = [],
) {
  const served = await serveEmulator(0, emulatorOptions);
  served.emulator.store.roles.set(BENCH_ROLE_ID, {
    tenantId: 'default',
    id: BENCH_ROLE_ID,
    name: BENCH_ROLE,
    description: BENCH_ROLE,
    type: 'User',
    isDefault: false,
  });
  const runtime = await startRuntime({
    vars: {
      LOGTO_ENDPOINT: served.emulator.endpoint,
      LOGTO_M2M_APP_ID: DEFAULT_EMULATOR_APP.id,
      LOGTO_M2M_APP_SECRET: DEFAULT_EMULATOR_APP.secret,
      LOGTO_WEBHOOK_SIGNING_KEY: BENCH_SIGNING_KEY,
      SIGNUP_ROLE_NAMES: BENCH_ROLE,
      ...vars,
    },
    entry,
    callers,
  });
  return {
    emulator: served.emulator,
    runtime,
    async close() {
      await runtime.close();
      await served.close();
    },
  };
}
