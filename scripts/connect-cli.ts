/**
 * `npm run connect`: wires a Logto (Cloud or self-hosted) to this Worker — the Logto webhook pointing at
 * `<WORKER_URL>/webhooks/logto` with exactly the events the configured automations consume, its signing key in the
 * Worker's secrets — and rotates that key. Runtime-neutral (fetch, WebCrypto and an injected `runWrangler`), so tests
 * run it inside workerd against the emulator; scripts/connect.mjs runs it in Node. See docs/connect.md.
 */
import shippedConfig from '../automations.config';
import { type LogtoConfig, parseLogtoConfig } from '../src/config';
import {
  type AutomationConfig,
  AutomationConfigError,
  automationsFromConfig,
  logtoEventsOf,
  parseAutomationConfig,
} from '../src/recipes';
import {
  type ConnectApi,
  ConnectError,
  type Hook,
  openLogto,
  type Verdict,
  workerProbe,
} from './connect-api';

export const USAGE = `usage: npm run connect -- [options]
  (none)              create or update the Logto webhook for this Worker; put its signing key if the Worker lacks it
  --dry-run           print what would change, change nothing
  --put-secret        put the signing key into the Worker even though it accepts it already
  --rotate            rotate the signing key, step 1: afterwards the Worker accepts the old and the new key
  --rotate --finish   step 2, a minute or more later: the Worker forgets the old key
  --url URL           the Worker's origin (default: WORKER_URL)
  --hook-id ID        the webhook to use (several point at the Worker, or move one to a new URL)
  --env NAME          the wrangler environment whose secrets are set
  --no-check          do not probe the Worker (see docs/connect.md)
Environment (wrangler.toml [vars] fill in the rest): LOGTO_ENDPOINT or LOGTO_TENANT_ID, LOGTO_M2M_APP_ID,
LOGTO_M2M_APP_SECRET, LOGTO_MANAGEMENT_API_RESOURCE (optional), WORKER_URL, SIGNUP_ROLE_NAMES.`;

export interface ConnectIo {
  env: Record<string, string | undefined>;
  fetch: typeof fetch;
  print: (line: string) => void;
  /** Runs `wrangler <args>` with `input` on stdin and resolves with its exit code; `args` never hold a secret. */
  runWrangler: (args: string[], input?: string) => Promise<number>;
  /** The validated recipes; default automations.config.ts, loaded as the Worker loads it. */
  recipes?: AutomationConfig;
  /** Waits between probes while a secret reaches the Worker; default a timer. */
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

export const CURRENT_KEY = 'LOGTO_WEBHOOK_SIGNING_KEY';
export const PREVIOUS_KEY = 'LOGTO_WEBHOOK_SIGNING_KEY_PREVIOUS';
const SWITCHES = ['dry-run', 'put-secret', 'rotate', 'finish', 'no-check', 'help'];
const VALUED = ['url', 'hook-id', 'env'];
/** A put secret reaches the Worker in seconds (a new version); give up on it after about a minute. */
const PROBE_ATTEMPTS = 30;
const PROBE_INTERVAL_MS = 2000;

type Flags = Record<string, string | true>;

function parse(argv: string[]): Flags {
  const flags: Flags = {};
  for (let i = 0; i < argv.length; i++) {
    const [name = '', inline] = (argv[i] ?? '').replace(/^--/, '').split('=', 2);
    if (!(argv[i] ?? '').startsWith('--') || ![...SWITCHES, ...VALUED].includes(name))
      throw new ConnectError(`unknown argument "${argv[i]}"\n${USAGE}`);
    if (SWITCHES.includes(name)) flags[name] = true;
    else if (inline !== undefined) flags[name] = inline;
    else if (argv[i + 1] !== undefined && !argv[i + 1]?.startsWith('--')) flags[name] = argv[++i] ?? '';
    else throw new ConnectError(`--${name} needs a value`);
  }
  if (flags.finish && !flags.rotate) throw new ConnectError('--finish is the second step of --rotate');
  return flags;
}

const list = (raw: string | undefined) =>
  (raw ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

/** Everything one run needs, resolved and checked before anything is written. */
interface Run {
  io: ConnectIo;
  flags: Flags;
  dryRun: boolean;
  events: string[];
  workerUrl: string;
  hookUrl: string;
  logto: ConnectApi;
  probe: (key: string) => Promise<Verdict>;
  putSecret: (name: string, value: string, why: string) => Promise<void>;
}

/** The Logto events the configured automations consume: automations.config.ts and SIGNUP_ROLE_NAMES. */
function eventsOf(io: ConnectIo): string[] {
  let recipes = io.recipes;
  try {
    recipes ??= parseAutomationConfig(shippedConfig);
  } catch (error) {
    if (error instanceof AutomationConfigError) throw new ConnectError(error.message);
    throw error;
  }
  const signupRoleNames = list(io.env.SIGNUP_ROLE_NAMES);
  return logtoEventsOf(automationsFromConfig(recipes, { signupRoleNames }, io.now ?? Date.now));
}

function logtoConfigOf(env: ConnectIo['env']): LogtoConfig {
  const parsed = parseLogtoConfig(env);
  if (parsed.ok) return parsed.config;
  if (parsed.variable === 'LOGTO_M2M_APP_ID' || parsed.variable === 'LOGTO_M2M_APP_SECRET') {
    throw new ConnectError(
      'no credentials: set LOGTO_M2M_APP_ID and LOGTO_M2M_APP_SECRET (an M2M app with a role holding the ' +
        'Logto Management API `all` permission) in the environment',
    );
  }
  throw new ConnectError(`${parsed.variable}: ${parsed.reason}`);
}

async function prepare(io: ConnectIo, flags: Flags): Promise<Run> {
  const events = eventsOf(io);
  const workerUrl = (typeof flags.url === 'string' ? flags.url : (io.env.WORKER_URL ?? '')).trim();
  const origin = workerUrl.replace(/\/+$/, '');
  if (!origin)
    throw new ConnectError('set WORKER_URL (or --url) to the Worker’s origin, e.g. https://x.workers.dev');
  if (!/^https?:\/\/[^/]+$/.test(origin))
    throw new ConnectError('WORKER_URL must be an origin (no path), e.g. https://automations.example.com');
  const config = logtoConfigOf(io.env);
  const hookUrl = `${origin}/webhooks/logto`;
  io.print(`Logto:  ${config.endpoint} (${config.mode}; Management API ${config.resource})`);
  io.print(`Worker: ${hookUrl}`);
  io.print(`events: ${events.join(', ') || '(none)'}`);
  const envArgs = typeof flags.env === 'string' ? ['--env', flags.env] : [];
  return {
    io,
    flags,
    dryRun: flags['dry-run'] === true,
    events,
    workerUrl: origin,
    hookUrl,
    logto: await openLogto(io.fetch, config),
    probe: (key) => workerProbe(io.fetch, hookUrl, key),
    async putSecret(name, value, why) {
      // The value goes on stdin only: an argument would show in `ps` and in shell history.
      const code = await io.runWrangler(['secret', 'put', name, ...envArgs], value);
      if (code !== 0) throw new ConnectError(`wrangler secret put ${name} failed (exit ${code})`);
      io.print(`put ${name} into the Worker${envArgs.length ? ` (--env ${flags.env})` : ''}: ${why}`);
    },
  };
}

/** The webhook for this Worker: `--hook-id`, else the one whose endpoint is the hook URL (none: undefined). */
async function findHook(run: Run): Promise<Hook | undefined> {
  const hooks = await run.logto.listHooks();
  const id = run.flags['hook-id'];
  if (typeof id === 'string') {
    const hook = hooks.find((item) => item.id === id);
    if (!hook) throw new ConnectError(`no Logto webhook has the ID ${id}`);
    return hook;
  }
  const matches = hooks.filter((hook) => hook.config.url.replace(/\/+$/, '') === run.hookUrl);
  if (matches.length > 1) {
    throw new ConnectError(
      `${matches.length} Logto webhooks point at ${run.hookUrl} (${matches.map((hook) => hook.id).join(', ')}): ` +
        'each event would arrive twice; delete the extra ones, or choose one with --hook-id',
    );
  }
  return matches[0];
}

/**
 * Asks the Worker whether it accepts `key` (unless --no-check). An answer that is neither yes nor no — not this
 * Worker, not deployed, blocked — stops the run before anything is written.
 */
async function check(run: Run, key: string): Promise<'accepted' | 'refused' | undefined> {
  if (run.flags['no-check']) return undefined;
  const verdict = await run.probe(key);
  if (verdict.status !== 'unknown') return verdict.status;
  throw new ConnectError(
    `cannot tell whether the Worker at ${run.hookUrl} accepts the signing key: it ${verdict.detail}. ` +
      'Is WORKER_URL this Worker’s origin and is it deployed? (--no-check skips this check)',
  );
}

/** After a put: waits until the Worker accepts `key` (a new version takes seconds); returns the wait in ms. */
async function untilAccepted(run: Run, key: string): Promise<number> {
  const now = run.io.now ?? Date.now;
  const sleep = run.io.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const started = now();
  if (run.flags['no-check']) return 0;
  for (let attempt = 1; ; attempt++) {
    const verdict = await run.probe(key);
    if (verdict.status === 'accepted') return now() - started;
    if (attempt >= PROBE_ATTEMPTS) {
      const detail = 'detail' in verdict ? verdict.detail : 'refused';
      throw new ConnectError(
        `the Worker still does not accept the key it was given (${detail}): was it put to this Worker (--env)?`,
      );
    }
    await sleep(PROBE_INTERVAL_MS);
  }
}

function recordHookId(run: Run, hookId: string) {
  run.io.print(`webhook ID: ${hookId}`);
  if (list(run.io.env.LOGTO_HOOK_IDS).includes(hookId)) return;
  run.io.print(
    `for recovery from Logto's hook log, set in wrangler.toml [vars]: LOGTO_HOOK_IDS = "${hookId}" ` +
      `(or WORKER_URL = "${run.workerUrl}"), then deploy`,
  );
}

async function create(run: Run): Promise<number> {
  const { io, logto, events } = run;
  // A probe with a key Logto never issued: this Worker answers "refused", anything else is not this Worker.
  await check(run, `connect-probe-${crypto.randomUUID()}`);
  if (run.dryRun) {
    io.print(`would create a webhook → ${run.hookUrl} (${events.length} events), disabled`);
    io.print(`would put ${CURRENT_KEY}, then enable the webhook`);
    return 0;
  }
  // Created disabled (Logto delivers to enabled hooks only): nothing is signed with a key the Worker lacks.
  const hook = await logto.createHook({ events, url: run.hookUrl, enabled: false });
  io.print(`created webhook ${hook.id}, disabled until the Worker has its signing key`);
  await run.putSecret(CURRENT_KEY, hook.signingKey, 'the new webhook’s signing key');
  await untilAccepted(run, hook.signingKey);
  await logto.updateHook(hook.id, { enabled: true });
  io.print(`enabled webhook ${hook.id}: Logto sends ${events.join(', ')} to the Worker`);
  recordHookId(run, hook.id);
  return 0;
}

/** What differs between the webhook and this run's target (events as sets, the URL, enabled). */
function changesOf(run: Run, hook: Hook): { patch: Partial<Hook>; lines: string[] } {
  const patch: Partial<Hook> = {};
  const lines: string[] = [];
  const added = run.events.filter((name) => !hook.events.includes(name));
  const removed = hook.events.filter((name) => !run.events.includes(name));
  if (added.length > 0 || removed.length > 0) {
    patch.events = run.events;
    lines.push(`events ${[...added.map((n) => `+${n}`), ...removed.map((n) => `-${n}`)].join(' ')}`);
  }
  if (hook.config.url !== run.hookUrl) {
    patch.config = { ...hook.config, url: run.hookUrl };
    lines.push(`endpoint ${hook.config.url} → ${run.hookUrl}`);
  }
  if (!hook.enabled) {
    patch.enabled = true;
    lines.push('enable it');
  }
  return { patch, lines };
}

async function update(run: Run, hook: Hook): Promise<number> {
  const { io } = run;
  const { patch, lines } = changesOf(run, hook);
  const verdict = await check(run, hook.signingKey);
  const why = run.flags['put-secret']
    ? 'forced by --put-secret'
    : verdict === 'refused' && hook.enabled
      ? 'the Worker refused the webhook’s signing key (regenerated in Logto Console?)'
      : verdict === 'refused'
        ? 'the Worker lacks the signing key of the disabled webhook'
        : verdict === undefined && !hook.enabled
          ? 'the webhook is being enabled and the Worker was not checked'
          : undefined;
  if (lines.length === 0 && !why) {
    io.print(`up to date: webhook ${hook.id}${verdict ? ', and the Worker accepts its signing key' : ''}`);
    recordHookId(run, hook.id);
    return 0;
  }
  if (run.dryRun) {
    for (const line of lines) io.print(`would update webhook ${hook.id}: ${line}`);
    if (why) io.print(`would put ${CURRENT_KEY}: ${why}`);
    return 0;
  }
  // The key first: an enabled webhook, or a newly subscribed event, is then never signed with a key the Worker lacks.
  if (why) {
    await run.putSecret(CURRENT_KEY, hook.signingKey, why);
    await untilAccepted(run, hook.signingKey);
  }
  if (lines.length > 0) {
    await run.logto.updateHook(hook.id, patch);
    io.print(`updated webhook ${hook.id}: ${lines.join('; ')}`);
  }
  recordHookId(run, hook.id);
  return 0;
}

/**
 * Rotation, step 1. The Worker accepts the current and the previous key (src/webhook-signature tries both), Logto
 * signs with exactly one, and Logto generates the new key itself — so no order can put it in the Worker before Logto
 * signs with it. This order keeps the gap to one `wrangler secret put`: the old key is made the previous first (every
 * version from then on accepts it, so deliveries already signed with it pass), then Logto regenerates, then the new
 * key is put at once. Deliveries Logto sends in the gap are refused with 401; Logto keeps them in its hook log and
 * the recovery cron journals them. The run measures the gap and counts them.
 */
async function rotate(run: Run, hook: Hook | undefined): Promise<number> {
  const { io, logto } = run;
  if (!hook)
    throw new ConnectError(`no Logto webhook points at ${run.hookUrl}: run \`npm run connect\` first`);
  if ((await check(run, hook.signingKey)) === 'refused') {
    throw new ConnectError(
      'the Worker does not accept the webhook’s current signing key, so rotating cannot keep deliveries working: ' +
        'run `npm run connect -- --put-secret` first',
    );
  }
  if (changesOf(run, hook).lines.length > 0)
    io.print('note: the webhook differs from the configuration; `npm run connect` updates it');
  if (run.dryRun) {
    io.print(
      `would put ${PREVIOUS_KEY} (the current key), regenerate the key of webhook ${hook.id} in Logto,`,
    );
    io.print(`and put ${CURRENT_KEY} (the new key)`);
    return 0;
  }
  const now = io.now ?? Date.now;
  await run.putSecret(PREVIOUS_KEY, hook.signingKey, 'the current key, accepted until --finish');
  const switched = now();
  const rotated = await logto.rotateKey(hook.id);
  io.print(`regenerated the signing key of webhook ${hook.id}: Logto signs with the new key from now on`);
  let gap: number;
  try {
    await run.putSecret(CURRENT_KEY, rotated.signingKey, 'the new key');
    gap = now() - switched + (await untilAccepted(run, rotated.signingKey));
  } catch (error) {
    if (!(error instanceof ConnectError)) throw error;
    throw new ConnectError(
      `${error.message}. Logto signs with the new key and the Worker lacks it: ` +
        'run `npm run connect -- --put-secret` now',
    );
  }
  const refused = await logto.failedDeliveriesSince(hook.id, switched - 60_000);
  io.print(
    `the Worker accepts the old and the new key; it took the new one ${(gap / 1000).toFixed(1)} s after Logto ` +
      `switched. ${refused} failed deliveries in Logto's hook log since a minute before the switch: the recovery ` +
      'cron journals them (LOGTO_HOOK_IDS or WORKER_URL on the Worker), or now: `npm run ops -- recover`',
  );
  io.print(
    'in a minute or more (a delivery signed with the old key is over by then, retries included): ' +
      'npm run connect -- --rotate --finish',
  );
  return 0;
}

/** Rotation, step 2: the previous key goes, once the Worker is seen to accept the webhook's current key. */
async function finishRotation(run: Run, hook: Hook | undefined): Promise<number> {
  if (!hook) throw new ConnectError(`no Logto webhook points at ${run.hookUrl}`);
  if ((await check(run, hook.signingKey)) === 'refused') {
    throw new ConnectError(
      `the Worker does not accept the webhook’s current signing key; ${PREVIOUS_KEY} is kept. ` +
        'Run `npm run connect -- --put-secret`, then finish',
    );
  }
  if (run.dryRun) {
    run.io.print(`would delete ${PREVIOUS_KEY}`);
    return 0;
  }
  const envArgs = typeof run.flags.env === 'string' ? ['--env', run.flags.env] : [];
  const code = await run.io.runWrangler(['secret', 'delete', PREVIOUS_KEY, ...envArgs]);
  if (code !== 0) throw new ConnectError(`wrangler secret delete ${PREVIOUS_KEY} failed (exit ${code})`);
  run.io.print(`deleted ${PREVIOUS_KEY}: the Worker accepts only the webhook’s current key`);
  return 0;
}

/** Runs `npm run connect` with `argv`; returns the exit code. Never prints a secret, a token or a header. */
export async function runConnect(argv: string[], io: ConnectIo): Promise<number> {
  try {
    const flags = parse(argv);
    if (flags.help) {
      io.print(USAGE);
      return 0;
    }
    const run = await prepare(io, flags);
    const hook = await findHook(run);
    if (flags.rotate) return flags.finish ? await finishRotation(run, hook) : await rotate(run, hook);
    if (run.events.length === 0) {
      io.print(
        hook
          ? `no automation consumes a Logto event; webhook ${hook.id} is left as it is (delete it in Logto if unused)`
          : 'no automation consumes a Logto event: no webhook is needed',
      );
      return 0;
    }
    return hook ? await update(run, hook) : await create(run);
  } catch (error) {
    if (!(error instanceof ConnectError)) throw error;
    io.print(`error: ${error.message}`);
    return 1;
  }
}
