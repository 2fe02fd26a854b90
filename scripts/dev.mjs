#!/usr/bin/env node
// `npm run dev [-- --port N] [--fast-crons] [--persist-to DIR]`: the Worker under `wrangler dev` on 127.0.0.1, its crons fired on
// schedule. Port: --port, else $PORT, else a free one. With no Logto configured (.dev.vars / environment), the Logto
// emulator is started on a free port with an operator to sign in to the console as, and the Worker is pointed at it.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importTs } from './node-bundle.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function option(name) {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

function readDevVars() {
  const file = join(root, '.dev.vars');
  if (!existsSync(file)) return {};
  const vars = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const match = /^\s*([A-Z0-9_]+)\s*=\s*"?(.*?)"?\s*$/.exec(line);
    if (match) vars[match[1]] = match[2];
  }
  return vars;
}

// --persist-to DIR: local state (D1, KV, Durable Objects) somewhere else than .wrangler/state (tests use a temp dir).
const persist = option('persist-to') ? ['--persist-to', option('persist-to')] : [];
const port = Number(option('port') ?? process.env.PORT ?? 0) || (await freePort());
const inspectorPort = await freePort();
const configured = { ...readDevVars(), ...process.env };
const origin = `http://127.0.0.1:${port}`;
const vars = [];
let emulator;
const notes = [];
if (!configured.LOGTO_TENANT_ID && !configured.LOGTO_ENDPOINT) {
  const { serveEmulator } = await importTs('emulator/serve.ts');
  // The emulator takes whatever credentials and signing key the Worker will use (copied .dev.vars placeholders
  // included), so a copied .dev.vars.example never breaks the local loop.
  const appId = configured.LOGTO_M2M_APP_ID || 'm2m-app';
  const appSecret = configured.LOGTO_M2M_APP_SECRET || 'm2m-secret';
  const signingKey = configured.LOGTO_WEBHOOK_SIGNING_KEY || 'dev-signing-key';
  const consoleApp = configured.CONSOLE_CLIENT_ID || 'console-app';
  emulator = await serveEmulator(Number(option('emulator-port') ?? 0), {
    onAlert: (alert) => console.log(`\n🔔 alert: ${alert.text ?? JSON.stringify(alert)}\n`),
    apps: [
      { id: appId, secret: appSecret, hasAllScope: true },
      // The console signs in with PKCE alone (an SPA: no secret) unless you configured one.
      {
        id: consoleApp,
        secret: configured.CONSOLE_CLIENT_SECRET || '',
        hasAllScope: false,
        redirectUris: [`${origin}/console/callback`, `http://localhost:${port}/console/callback`],
      },
    ],
  });
  const logto = `http://127.0.0.1:${emulator.port}`;
  vars.push(`LOGTO_ENDPOINT:${logto}`, `LOGTO_M2M_APP_ID:${appId}`);
  if (!configured.LOGTO_M2M_APP_SECRET) vars.push(`LOGTO_M2M_APP_SECRET:${appSecret}`);
  if (!configured.LOGTO_WEBHOOK_SIGNING_KEY) vars.push(`LOGTO_WEBHOOK_SIGNING_KEY:${signingKey}`);
  const store = emulator.emulator.store;
  for (const [id, name] of [
    ['dev-member', 'member'],
    ['dev-console-operator', 'console-operator'],
  ])
    store.roles.set(id, { tenantId: 'default', id, name, description: name, type: 'User', isDefault: false });
  // An operator to sign in to the console as.
  const operator = await emulator.emulator.signUp({
    username: 'operator',
    primaryEmail: 'operator@example.test',
  });
  store.userRoles.set(operator.id, new Set(['dev-console-operator']));
  // The webhook only now: the operator's own sign-up (before the Worker listens) is not a delivery that failed, to be
  // recovered from the hook log into a run minutes later.
  emulator.emulator.webhooks.add({ url: `${origin}/webhooks/logto`, signingKey });
  if (!configured.SIGNUP_ROLE_NAMES) vars.push('SIGNUP_ROLE_NAMES:member');
  // Alerts go to the emulator's stand-in for Slack, printed here.
  if (!configured.ALERT_WEBHOOK_URL) vars.push(`ALERT_WEBHOOK_URL:${logto}/__emulator/alerts`);
  if (!configured.WORKER_URL) vars.push(`WORKER_URL:${origin}`);
  if (!configured.CONSOLE_CLIENT_ID) vars.push(`CONSOLE_CLIENT_ID:${consoleApp}`);
  if (!configured.CONSOLE_USER_IDS && !configured.CONSOLE_ROLE_NAMES)
    vars.push('CONSOLE_ROLE_NAMES:console-operator');
  notes.push(
    `Logto emulator: ${logto} (M2M app ${appId}; webhook → ${origin}/webhooks/logto)`,
    `Console:        ${origin}/console  (sign in as "operator")`,
    `Sign-up:        curl -X POST ${logto}/__emulator/sign-up -H 'content-type: application/json' -d '{"username":"alice"}'`,
    `Alerts:         printed here (ALERT_WEBHOOK_URL → the emulator's ${logto}/__emulator/alerts)`,
    `Break Logto:    curl -X POST ${logto}/__emulator/faults -H 'content-type: application/json' -d '{"target":"POST /api/organizations","status":500}'  (clear: DELETE)`,
  );
}

// The journal's tables in the local D1 (idempotent); its output is shown only when it fails.
const migrate = spawnSync(
  join(root, 'node_modules', '.bin', 'wrangler'),
  ['d1', 'migrations', 'apply', 'logto-automations-journal', '--local', ...persist],
  { cwd: root, encoding: 'utf8', env: { ...process.env, CI: 'true', WRANGLER_SEND_METRICS: 'false' } },
);
if (migrate.status !== 0) {
  process.stdout.write(migrate.stdout ?? '');
  process.stderr.write(migrate.stderr ?? '');
  process.exit(migrate.status ?? 1);
}
const applied = (migrate.stdout.match(/\d{4}_\w+\.sql/g) ?? []).filter(
  (name, i, all) => all.indexOf(name) === i,
);
console.log(`Journal (local D1): ${applied.length ? `applied ${applied.join(', ')}` : 'up to date'}`);

const args = [
  'dev',
  '--ip',
  '127.0.0.1',
  '--port',
  String(port),
  '--inspector-port',
  String(inspectorPort),
  '--test-scheduled',
  ...persist,
];
for (const value of vars) args.push('--var', value);
const wrangler = spawn(join(root, 'node_modules', '.bin', 'wrangler'), args, {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' },
});

// Crons: wrangler dev runs none by itself. Each minute, the crons of wrangler.toml that match it are fired through
// the Worker's /__scheduled route. --fast-crons: the minute cron (journal sweep, alerts, batch release) every 10 s,
// the others still on their schedule — for trying things out.
const { crons, matches } = await importTs('scripts/cron.ts');
const schedule = crons(readFileSync(join(root, 'wrangler.toml'), 'utf8'));
const fast = process.argv.includes('--fast-crons');
const fire = async (cron) => {
  try {
    await fetch(`${origin}/__scheduled?cron=${encodeURIComponent(cron)}`);
  } catch {
    // The Worker is starting or restarting: the next tick fires again.
  }
};
let lastMinute = -1;
const tick = () => {
  const now = new Date();
  const minute = Math.floor(now.getTime() / 60_000);
  const newMinute = minute !== lastMinute;
  lastMinute = minute;
  for (const cron of schedule) {
    const due = newMinute && matches(cron, now);
    if (due || (fast && cron === '* * * * *')) void fire(cron);
  }
};
const nextTickIn = () => (fast ? 10_000 : 60_000 - (Date.now() % 60_000));
let timer = setTimeout(function next() {
  tick();
  timer = setTimeout(next, nextTickIn());
}, nextTickIn());

console.log(`\nWorker:         ${origin}  (${origin}/healthz, ${origin}/readyz)`);
for (const note of notes) console.log(note);
console.log(
  `Crons:          ${schedule.join(', ')} — fired on schedule${fast ? ' (--fast-crons: "* * * * *" every 10 s)' : ''}; now: ${origin}/__scheduled?cron=${encodeURIComponent(schedule[0] ?? '* * * * *')}\n`,
);

const stop = () => {
  clearTimeout(timer);
  wrangler.kill('SIGTERM');
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
wrangler.on('exit', async (code) => {
  clearTimeout(timer);
  await emulator?.close();
  process.exit(code ?? 0);
});
