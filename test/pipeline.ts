import {
  createExecutionContext,
  createScheduledController,
  introspectWorkflow,
  waitOnExecutionContext,
} from 'cloudflare:test';
import { env, exports } from 'cloudflare:workers';
import { createLogtoEmulator, type LogtoEmulatorOptions } from '../emulator';
import { createJournal, type EventStatus } from '../src/journal';
import { createEnqueue, STARTER_NAME } from '../src/pipeline';
import { type AutomationConfigInput, parseAutomationConfig } from '../src/recipes';
import { emulatorToken } from './helpers';
import worker, { testRuntime } from './worker-entry';

/** The hook URL the emulator delivers to; deliveries are served in-process by the Worker under test. */
export const HOOK_URL = 'http://worker.test/webhooks/logto';
export const SIGNING_KEY = env.LOGTO_WEBHOOK_SIGNING_KEY;
export const SIGNUP_ROLES = env.SIGNUP_ROLE_NAMES.split(',');

/** Calls the Worker under test like the runtime would, and waits for its `waitUntil` work (the run starts). */
export async function callWorker(input: RequestInfo | URL, init?: RequestInit, workerEnv: Env = env) {
  const ctx = createExecutionContext();
  const response = await worker.fetch(
    new Request(input, init) as Request<unknown, IncomingRequestCfProperties>,
    workerEnv,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return response;
}

/**
 * The whole pipeline wired in-process: a Logto emulator at the endpoint vitest.config.ts configures (with the roles
 * SIGNUP_ROLE_NAMES names), its webhooks delivered to the Worker, Workflow sleeps disabled. One per test file: the
 * Worker's isolate caches the emulator's token.
 *
 * `realRuntime`: each delivery is its own request to the Worker (`exports.default.fetch`, its own I/O context, as on
 * Cloudflare, so a promise shared across requests would hang), and Workflow sleeps are real.
 */
export async function setupPipeline(options: LogtoEmulatorOptions & { realRuntime?: boolean } = {}) {
  const emulator = await createLogtoEmulator({ endpoint: env.LOGTO_ENDPOINT, ...options });
  testRuntime.fetch = emulator.fetch;
  const roleIds: Record<string, string> = {};
  for (const name of SIGNUP_ROLES) {
    const response = await emulator.fetch(`${emulator.endpoint}/api/roles`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${await emulatorToken(emulator, { id: env.LOGTO_M2M_APP_ID, secret: env.LOGTO_M2M_APP_SECRET })}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ name, description: name }),
    });
    roleIds[name] = ((await response.json()) as { id: string }).id;
  }
  emulator.faults.resetCounts();
  emulator.webhooks.add({ url: HOOK_URL, signingKey: SIGNING_KEY });
  emulator.webhooks.setDeliver((input, init) =>
    options.realRuntime ? exports.default.fetch(new Request(input, init)) : callWorker(input, init),
  );
  const introspector = options.realRuntime ? undefined : await introspectWorkflow(env.EVENT_WORKFLOW);
  await introspector?.modifyAll(async (m) => {
    await m.disableSleeps();
    await m.disableRetryDelays();
  });
  const journal = createJournal(env.JOURNAL);
  const enqueue = createEnqueue({
    journal,
    wake: (wakeOptions) => env.STARTER.get(env.STARTER.idFromName(STARTER_NAME)).wake(wakeOptions),
  });
  return {
    emulator,
    journal,
    /** The enqueue path over the test's journal and the Worker's run starter (replays, as an operator would). */
    enqueue,
    roleIds,
    introspector,
    /** Role names the emulator says the user has. */
    rolesOf: (userId: string) =>
      [...(emulator.store.userRoles.get(userId) ?? [])]
        .map((id) => emulator.store.roles.get(id)?.name)
        .sort(),
    /** Waits until no event is `received` or `running`, then returns the counts per status. */
    async drain(timeoutMs = 15_000) {
      await emulator.webhooks.settled();
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const counts = await journal.events.counts();
        if (!counts.received && !counts.running) return counts as Partial<Record<EventStatus, number>>;
        if (Date.now() > deadline) throw new Error(`journal did not drain: ${JSON.stringify(counts)}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
  };
}

/** Runs one cron invocation of the Worker under test (e.g. `*\/15 * * * *`, the reconciliation sweep). */
export async function runCron(cron: string, workerEnv: Env = env) {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ cron }), workerEnv, ctx);
  await waitOnExecutionContext(ctx);
}

/** Uses `recipes` (validated like automations.config.ts) for the runs of this test file. */
export function useRecipes(recipes: AutomationConfigInput) {
  testRuntime.recipes = parseAutomationConfig(recipes);
}

/** Creates a user through the emulator's Management API as an operator's tool would (it fires `User.Created`). */
export async function createUserViaApi(
  emulator: Awaited<ReturnType<typeof createLogtoEmulator>>,
  input: Record<string, unknown>,
): Promise<{ id: string }> {
  const token = await emulatorToken(emulator, { id: env.LOGTO_M2M_APP_ID, secret: env.LOGTO_M2M_APP_SECRET });
  const response = await emulator.fetch(`${emulator.endpoint}/api/users`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      'user-agent': 'admin-tool/1.0',
    },
    body: JSON.stringify(input),
  });
  if (!response.ok) throw new Error(`POST /api/users → ${response.status}`);
  return (await response.json()) as { id: string };
}
