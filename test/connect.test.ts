import { env } from 'cloudflare:workers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_EMULATOR_APP, type EmulatedHook } from '../emulator';
import { signLogtoBody } from '../emulator/webhooks';
import { type ConnectIo, runConnect } from '../scripts/connect-cli';
import { type AutomationConfigInput, defineAutomation, parseAutomationConfig } from '../src/recipes';
import { emulatorToken } from './helpers';
import { callWorker, runCron, setupPipeline, useRecipes } from './pipeline';
import { testRuntime } from './worker-entry';

/**
 * `npm run connect` (scripts/connect-cli.ts) against the Logto emulator and the Worker under test: the CLI's fetch goes
 * to the emulator (Logto) or the Worker; its `wrangler secret put/delete` change the secrets the Worker is then
 * called with, as a deployment's secrets would; the emulator delivers signed webhooks to the Worker throughout.
 */
const WORKER = 'https://automations.example.test';
const HOOK_URL = `${WORKER}/webhooks/logto`;
const NOT_A_WORKER = 'https://elsewhere.example.test';
const WEAK_APP = { id: 'no-role-app', secret: 'no-role-secret', hasAllScope: false };
const SIGN_UP_RECIPES: AutomationConfigInput = {
  personalOrganization: { organizationRoles: [] },
  stamps: { key: 'signUp' },
  reconcile: { enabled: false },
};
const offboarding = defineAutomation({
  name: 'offboarding',
  on: ['User.Deleted', 'Organization.Membership.Updated', 'stripe:customer.deleted', 'reconcile'],
  run: async () => null,
});

let pipeline: Awaited<ReturnType<typeof setupPipeline>>;
/** The Worker's secrets as the CLI's wrangler calls leave them. */
const secrets: Record<string, string> = {};
const wranglerCalls: string[][] = [];
/** Every value a wrangler call was given on stdin. */
const putValues: string[] = [];
/** Runs before each wrangler call lands (a delivery "between the steps"); may fail the call. */
let beforeWrangler: ((args: string[]) => Promise<number | undefined>) | undefined;
const lines: string[] = [];

const workerEnv = () =>
  ({
    ...env,
    LOGTO_WEBHOOK_SIGNING_KEY: secrets.LOGTO_WEBHOOK_SIGNING_KEY ?? '',
    LOGTO_WEBHOOK_SIGNING_KEY_PREVIOUS: secrets.LOGTO_WEBHOOK_SIGNING_KEY_PREVIOUS ?? '',
  }) as Env;

/** Logto calls to the emulator; the Worker's origin to the Worker; any other origin is not a Worker (404). */
const routed: typeof fetch = async (input, init) => {
  const url = String(input instanceof Request ? input.url : input);
  if (url.startsWith(pipeline.emulator.endpoint)) return pipeline.emulator.fetch(input, init);
  if (url.startsWith(NOT_A_WORKER)) return new Response('Not Found', { status: 404 });
  return callWorker(input, init, workerEnv());
};

async function runWrangler(args: string[], input?: string): Promise<number> {
  wranglerCalls.push(args);
  const failed = await beforeWrangler?.(args);
  if (failed !== undefined) return failed;
  const [, action, name = ''] = args;
  if (action === 'put') {
    secrets[name] = input ?? '';
    putValues.push(input ?? '');
  }
  if (action === 'delete') {
    if (!(name in secrets)) return 1;
    delete secrets[name];
  }
  return 0;
}

const io = (
  overrides: Omit<Partial<ConnectIo>, 'recipes'> & { recipes?: AutomationConfigInput } = {},
): ConnectIo => ({
  fetch: routed,
  print: (line) => lines.push(line),
  runWrangler,
  sleep: async () => {},
  ...overrides,
  env: {
    LOGTO_ENDPOINT: pipeline.emulator.endpoint,
    LOGTO_M2M_APP_ID: DEFAULT_EMULATOR_APP.id,
    LOGTO_M2M_APP_SECRET: DEFAULT_EMULATOR_APP.secret,
    WORKER_URL: WORKER,
    SIGNUP_ROLE_NAMES: env.SIGNUP_ROLE_NAMES,
    ...overrides.env,
  },
  recipes: parseAutomationConfig(overrides.recipes ?? SIGN_UP_RECIPES),
});

const connect = (argv: string[], overrides?: Parameters<typeof io>[0]) => runConnect(argv, io(overrides));
const ourHooks = (): EmulatedHook[] =>
  pipeline.emulator.webhooks.hooks.filter((hook) => hook.url === HOOK_URL);
const hookWrites = () =>
  ['POST /api/hooks', 'PATCH /api/hooks/:id', 'PATCH /api/hooks/:id/signing-key', 'DELETE /api/hooks/:id']
    .map((route) => pipeline.emulator.faults.count(route))
    .reduce((sum, count) => sum + count, 0);

/** A sign-up in Logto: the Worker's answers to the deliveries of our webhook (202 accepted, 401 refused, …). */
async function signUpAnswers(): Promise<(number | string)[]> {
  const before = pipeline.emulator.webhooks.deliveries.length;
  await pipeline.emulator.signUp();
  return pipeline.emulator.webhooks.deliveries
    .slice(before)
    .filter((delivery) => delivery.url === HOOK_URL)
    .map((delivery) => delivery.outcome);
}

/** A fresh event signed with `key`, as a delivery already in flight when the key changed. */
async function deliverSignedWith(key: string): Promise<number> {
  const body = JSON.stringify({
    event: 'Role.Created',
    createdAt: new Date().toISOString(),
    data: { id: `role-${crypto.randomUUID()}` },
    hookId: ourHooks()[0]?.id,
  });
  const headers = {
    'content-type': 'application/json',
    'logto-signature-sha-256': await signLogtoBody(body, key),
  };
  return (await callWorker(HOOK_URL, { method: 'POST', headers, body }, workerEnv())).status;
}

beforeAll(async () => {
  pipeline = await setupPipeline({ apps: [DEFAULT_EMULATOR_APP, WEAK_APP] });
  // Only the webhook the CLI creates: the pipeline's own test hook goes.
  for (const hook of [...pipeline.emulator.webhooks.hooks]) pipeline.emulator.webhooks.remove(hook.id);
  pipeline.emulator.webhooks.setDeliver((input, init) => callWorker(input, init, workerEnv()));
  useRecipes(SIGN_UP_RECIPES);
});
afterAll(() => {
  testRuntime.recipes = undefined;
  // Nothing secret was ever printed or passed as an argument.
  const said = [...lines, ...wranglerCalls.flat()].join('\n');
  const keys = pipeline.emulator.webhooks.hooks.map((hook) => hook.signingKey);
  for (const secret of [DEFAULT_EMULATOR_APP.secret, WEAK_APP.secret, ...putValues, ...keys])
    expect(said).not.toContain(secret);
  expect(putValues.length).toBeGreaterThan(4);
  expect(said).not.toMatch(/eyJ|Bearer|Basic /);
});

describe('npm run connect: wiring a Logto to the Worker', () => {
  it('--dry-run first: nothing is created and nothing put', async () => {
    expect(await connect(['--dry-run'])).toBe(0);
    expect(lines).toContain('events: PostRegister, User.Created');
    expect(lines.at(-2)).toBe(`would create a webhook → ${HOOK_URL} (2 events), disabled`);
    expect(ourHooks()).toEqual([]);
    expect(hookWrites()).toBe(0);
    expect(wranglerCalls).toEqual([]);
  });

  it('creates the webhook with exactly the events the automations consume, disabled until the Worker has its key', async () => {
    // While the key is being put, a sign-up reaches nothing: the webhook is still disabled.
    const duringPut: (number | string)[] = [];
    beforeWrangler = async () => {
      duringPut.push(...(await signUpAnswers()));
      return undefined;
    };
    expect(await connect([])).toBe(0);
    beforeWrangler = undefined;
    expect(duringPut).toEqual([]);

    const [hook] = ourHooks();
    expect(ourHooks()).toHaveLength(1);
    expect(hook).toMatchObject({
      name: 'logto-automations',
      events: ['PostRegister', 'User.Created'],
      enabled: true,
    });
    expect(secrets.LOGTO_WEBHOOK_SIGNING_KEY).toBe(hook?.signingKey);
    expect(wranglerCalls).toEqual([['secret', 'put', 'LOGTO_WEBHOOK_SIGNING_KEY']]);
    expect(pipeline.emulator.faults.count('POST /api/hooks')).toBe(1);
    expect(lines).toContain(`webhook ID: ${hook?.id}`);
    expect(lines.at(-1)).toContain(`LOGTO_HOOK_IDS = "${hook?.id}"`);

    // Logto's deliveries are signed with that key and accepted; the automations run.
    expect(await signUpAnswers()).toEqual([202, 202]);
    expect(await pipeline.drain()).toEqual({ done: 1, covered: 1 });
  });

  it('a second run with nothing changed writes nothing to Logto and puts no secret: "up to date"', async () => {
    pipeline.emulator.faults.resetCounts();
    const calls = wranglerCalls.length;
    const hookId = ourHooks()[0]?.id ?? '';
    expect(await connect([], { env: { LOGTO_HOOK_IDS: hookId } })).toBe(0);
    expect(lines.slice(-2)).toEqual([
      `up to date: webhook ${hookId}, and the Worker accepts its signing key`,
      `webhook ID: ${hookId}`,
    ]);
    expect(hookWrites()).toBe(0);
    expect(wranglerCalls).toHaveLength(calls);
  });

  it('a changed configuration updates only the events (dry-run first changes nothing); no secret put', async () => {
    const hookId = ourHooks()[0]?.id;
    const calls = wranglerCalls.length;
    pipeline.emulator.faults.resetCounts();
    const more = { ...SIGN_UP_RECIPES, handlers: [offboarding] };
    expect(await connect(['--dry-run'], { recipes: more })).toBe(0);
    expect(lines.at(-1)).toBe(
      `would update webhook ${hookId}: events +User.Deleted +Organization.Membership.Updated`,
    );
    expect(hookWrites()).toBe(0);

    expect(await connect([], { recipes: more })).toBe(0);
    expect(ourHooks()[0]?.events).toEqual([
      'PostRegister',
      'User.Created',
      'User.Deleted',
      'Organization.Membership.Updated',
    ]);
    // The handler alone: SIGNUP_ROLE_NAMES still needs the sign-up events; without it they go.
    const handlerOnly = { reconcile: { enabled: false }, handlers: [offboarding] };
    expect(await connect([], { recipes: handlerOnly })).toBe(0);
    expect(lines).toContain(`up to date: webhook ${hookId}, and the Worker accepts its signing key`);
    expect(await connect([], { recipes: handlerOnly, env: { SIGNUP_ROLE_NAMES: '' } })).toBe(0);
    expect(lines).toContain(`updated webhook ${hookId}: events -PostRegister -User.Created`);
    expect(ourHooks()[0]?.events).toEqual(['User.Deleted', 'Organization.Membership.Updated']);
    expect(pipeline.emulator.faults.count('PATCH /api/hooks/:id')).toBe(2);
    expect(wranglerCalls).toHaveLength(calls);

    expect(await connect([])).toBe(0);
    expect(ourHooks()[0]?.events).toEqual(['PostRegister', 'User.Created']);
  });

  it('a key regenerated in Logto Console is noticed (the Worker refuses it) and put; --put-secret forces a put', async () => {
    const hook = ourHooks()[0];
    const token = await emulatorToken(pipeline.emulator, DEFAULT_EMULATOR_APP);
    await pipeline.emulator.fetch(`${pipeline.emulator.endpoint}/api/hooks/${hook?.id}/signing-key`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${token}` },
    });
    // Not through Logto: a refused delivery would sit in the hook log, and the rotation below counts those.
    expect(await deliverSignedWith(ourHooks()[0]?.signingKey ?? '')).toBe(401);
    pipeline.emulator.faults.resetCounts();
    expect(await connect([])).toBe(0);
    expect(lines).toContain(
      'put LOGTO_WEBHOOK_SIGNING_KEY into the Worker: the Worker refused the webhook’s signing key (regenerated in Logto Console?)',
    );
    expect(secrets.LOGTO_WEBHOOK_SIGNING_KEY).toBe(ourHooks()[0]?.signingKey);
    expect(hookWrites()).toBe(0);
    expect(await signUpAnswers()).toEqual([202, 202]);

    const calls = wranglerCalls.length;
    expect(await connect(['--put-secret', '--env', 'production'])).toBe(0);
    expect(wranglerCalls.slice(calls)).toEqual([
      ['secret', 'put', 'LOGTO_WEBHOOK_SIGNING_KEY', '--env', 'production'],
    ]);
    await pipeline.drain();
  });
});

describe('npm run connect -- --rotate: a new signing key, and the Worker verifying deliveries throughout', () => {
  it('step 1 keeps the old key as the previous, step 2 drops it; a delivery between the steps is accepted', async () => {
    const hookId = ourHooks()[0]?.id ?? '';
    const oldKey = ourHooks()[0]?.signingKey ?? '';
    expect(await connect(['--rotate', '--dry-run'])).toBe(0);
    expect(ourHooks()[0]?.signingKey).toBe(oldKey);

    // A sign-up just before each wrangler call lands.
    const answers: Record<string, (number | string)[]> = {};
    beforeWrangler = async (args) => {
      answers[args.slice(1, 3).join(' ')] = await signUpAnswers();
      return undefined;
    };
    const calls = wranglerCalls.length;
    expect(await connect(['--rotate'])).toBe(0);
    const newKey = ourHooks()[0]?.signingKey ?? '';
    expect(newKey).not.toBe(oldKey);
    expect(secrets).toEqual({
      LOGTO_WEBHOOK_SIGNING_KEY: newKey,
      LOGTO_WEBHOOK_SIGNING_KEY_PREVIOUS: oldKey,
    });
    expect(wranglerCalls.slice(calls)).toEqual([
      ['secret', 'put', 'LOGTO_WEBHOOK_SIGNING_KEY_PREVIOUS'],
      ['secret', 'put', 'LOGTO_WEBHOOK_SIGNING_KEY'],
    ]);
    // Before the previous key is put: accepted. Between Logto's regeneration and the new key landing — the one gap
    // no order can close, since Logto makes the key — refused; the run reports them.
    expect(answers).toEqual({
      'put LOGTO_WEBHOOK_SIGNING_KEY_PREVIOUS': [202, 202],
      'put LOGTO_WEBHOOK_SIGNING_KEY': [401, 401],
    });
    expect(lines.at(-2)).toMatch(
      /^the Worker accepts the old and the new key; .* 2 failed deliveries in Logto's hook log/,
    );

    // Between the steps: Logto's deliveries (new key) and one signed with the old key still in flight are accepted.
    expect(await signUpAnswers()).toEqual([202, 202]);
    expect(await deliverSignedWith(oldKey)).toBe(200);
    // The refused ones are in Logto's hook log: the recovery cron journals them.
    await runCron('*/5 * * * *', { ...workerEnv(), LOGTO_HOOK_IDS: hookId } as Env);
    await pipeline.drain();
    const recovered = await pipeline.journal.events.list({ arrivedVia: 'recovered' });
    expect(recovered.entries.map((entry) => entry.eventType).sort()).toEqual([
      'PostRegister',
      'User.Created',
    ]);

    expect(await connect(['--rotate', '--finish'])).toBe(0);
    expect(wranglerCalls.at(-1)).toEqual(['secret', 'delete', 'LOGTO_WEBHOOK_SIGNING_KEY_PREVIOUS']);
    expect(answers['delete LOGTO_WEBHOOK_SIGNING_KEY_PREVIOUS']).toEqual([202, 202]);
    beforeWrangler = undefined;
    expect(secrets).toEqual({ LOGTO_WEBHOOK_SIGNING_KEY: newKey });
    expect(await signUpAnswers()).toEqual([202, 202]);
    expect(await deliverSignedWith(oldKey)).toBe(401);
    await pipeline.drain();
  });

  it('does not rotate while the Worker refuses the current key, and finishing then keeps the previous key', async () => {
    const key = secrets.LOGTO_WEBHOOK_SIGNING_KEY ?? '';
    secrets.LOGTO_WEBHOOK_SIGNING_KEY = 'a-stale-key';
    pipeline.emulator.faults.resetCounts();
    const calls = wranglerCalls.length;
    expect(await connect(['--rotate'])).toBe(1);
    expect(lines.at(-1)).toMatch(/^error: the Worker does not accept the webhook’s current signing key/);
    expect(await connect(['--rotate', '--finish'])).toBe(1);
    expect(hookWrites()).toBe(0);
    expect(wranglerCalls).toHaveLength(calls);
    secrets.LOGTO_WEBHOOK_SIGNING_KEY = key;
  });

  it('a failed put of the new key says what to run at once; --put-secret then restores deliveries', async () => {
    beforeWrangler = async (args) => (args[2] === 'LOGTO_WEBHOOK_SIGNING_KEY' ? 1 : undefined);
    expect(await connect(['--rotate'])).toBe(1);
    beforeWrangler = undefined;
    expect(lines.at(-1)).toBe(
      'error: wrangler secret put LOGTO_WEBHOOK_SIGNING_KEY failed (exit 1). Logto signs with the new key and the ' +
        'Worker lacks it: run `npm run connect -- --put-secret` now',
    );
    expect(await deliverSignedWith(ourHooks()[0]?.signingKey ?? '')).toBe(401);
    expect(await connect(['--put-secret'])).toBe(0);
    expect(await signUpAnswers()).toEqual([202, 202]);
    expect(await connect(['--rotate', '--finish'])).toBe(0);
    expect(secrets).toEqual({ LOGTO_WEBHOOK_SIGNING_KEY: ourHooks()[0]?.signingKey });
    await pipeline.drain();
  });
});

describe('npm run connect: errors are clear and change nothing', () => {
  it('no credentials, no Worker URL, bad credentials, no `all` scope, unknown flags', async () => {
    const cases: [string[], Parameters<typeof io>[0], string][] = [
      [
        [],
        { env: { LOGTO_M2M_APP_SECRET: '' } },
        'error: no credentials: set LOGTO_M2M_APP_ID and LOGTO_M2M_APP_SECRET',
      ],
      [[], { env: { WORKER_URL: '' } }, 'error: set WORKER_URL (or --url)'],
      [['--url', `${WORKER}/path`], {}, 'error: WORKER_URL must be an origin'],
      [
        [],
        { env: { LOGTO_ENDPOINT: '', LOGTO_TENANT_ID: '' } },
        'error: LOGTO_TENANT_ID: set LOGTO_TENANT_ID',
      ],
      [
        [],
        { env: { LOGTO_M2M_APP_SECRET: 'wrong-secret' } },
        'error: Logto refused the M2M credentials (401 invalid_client)',
      ],
      [
        [],
        { env: { LOGTO_MANAGEMENT_API_RESOURCE: 'https://tenant.logto.app/api' } },
        'error: Logto does not know the resource https://tenant.logto.app/api (400 invalid_target)',
      ],
      [
        [],
        { env: { LOGTO_M2M_APP_ID: WEAK_APP.id, LOGTO_M2M_APP_SECRET: WEAK_APP.secret } },
        'error: the token has no `all` scope',
      ],
      [['--finish'], {}, 'error: --finish is the second step of --rotate'],
      [['--force'], {}, 'error: unknown argument "--force"'],
      [['--hook-id', 'nope'], {}, 'error: no Logto webhook has the ID nope'],
    ];
    pipeline.emulator.faults.resetCounts();
    const calls = wranglerCalls.length;
    for (const [argv, overrides, message] of cases) {
      expect(await connect(argv, overrides)).toBe(1);
      expect(lines.at(-1)?.startsWith(message), `${lines.at(-1)} should start with ${message}`).toBe(true);
    }
    expect(hookWrites()).toBe(0);
    expect(wranglerCalls).toHaveLength(calls);
  });

  it('a URL that is not this Worker, or Logto answering 4xx, stops with what was answered', async () => {
    pipeline.emulator.faults.resetCounts();
    expect(await connect(['--url', NOT_A_WORKER])).toBe(1);
    expect(lines.at(-1)).toMatch(
      new RegExp(
        `^error: cannot tell whether the Worker at ${NOT_A_WORKER}/webhooks/logto accepts .*answered 404`,
      ),
    );
    expect(hookWrites()).toBe(0);

    pipeline.emulator.faults.add({
      target: 'POST /api/hooks',
      status: 403,
      code: 'auth.forbidden',
      times: 1,
    });
    expect(await connect(['--url', 'https://second.example.test'])).toBe(1);
    expect(lines.at(-1)).toBe('error: Logto answered 403 auth.forbidden to POST /api/hooks: Injected fault.');
    expect(pipeline.emulator.webhooks.hooks).toHaveLength(1);
  });

  it('a failed secret put leaves the new webhook disabled; the next run puts the key and enables it', async () => {
    const second = 'https://second.example.test';
    beforeWrangler = async () => 1;
    expect(await connect(['--url', second])).toBe(1);
    beforeWrangler = undefined;
    expect(lines.at(-1)).toBe('error: wrangler secret put LOGTO_WEBHOOK_SIGNING_KEY failed (exit 1)');
    const created = pipeline.emulator.webhooks.hooks.find((hook) => hook.url === `${second}/webhooks/logto`);
    expect(created?.enabled).toBe(false);

    expect(await connect(['--url', second])).toBe(0);
    expect(lines).toContain(
      'put LOGTO_WEBHOOK_SIGNING_KEY into the Worker: the Worker lacks the signing key of the disabled webhook',
    );
    expect(lines).toContain(`updated webhook ${created?.id}: enable it`);
    expect(created?.enabled).toBe(true);
    expect(secrets.LOGTO_WEBHOOK_SIGNING_KEY).toBe(created?.signingKey);
  });
});
