#!/usr/bin/env node
// `npm run dev [-- --port N]`: the Worker under `wrangler dev` on 127.0.0.1.
// Port: --port, else $PORT, else a free one. With no Logto configured (.dev.vars / environment), the Logto
// emulator is started on a free port and the Worker is pointed at it, so /readyz works out of the box.
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

const port = Number(option('port') ?? process.env.PORT ?? 0) || (await freePort());
const inspectorPort = await freePort();
const configured = { ...readDevVars(), ...process.env };
const vars = [];
let emulator;
if (!configured.LOGTO_TENANT_ID && !configured.LOGTO_ENDPOINT) {
  const { serveEmulator } = await importTs('emulator/serve.ts');
  emulator = await serveEmulator(Number(option('emulator-port') ?? 0));
  vars.push(
    `LOGTO_ENDPOINT:http://127.0.0.1:${emulator.port}`,
    'LOGTO_M2M_APP_ID:m2m-app',
    'LOGTO_M2M_APP_SECRET:m2m-secret',
  );
  console.log(`No Logto configured: Logto emulator on http://127.0.0.1:${emulator.port} (app m2m-app)`);
  // The emulator's webhook points at this Worker; a role to assign on sign-up exists.
  emulator.emulator.webhooks.add({
    url: `http://127.0.0.1:${port}/webhooks/logto`,
    signingKey: 'dev-signing-key',
  });
  emulator.emulator.store.roles.set('dev-member', {
    tenantId: 'default',
    id: 'dev-member',
    name: 'member',
    description: 'member',
    type: 'User',
    isDefault: false,
  });
  if (!configured.LOGTO_WEBHOOK_SIGNING_KEY) vars.push('LOGTO_WEBHOOK_SIGNING_KEY:dev-signing-key');
  if (!configured.SIGNUP_ROLE_NAMES) vars.push('SIGNUP_ROLE_NAMES:member');
  console.log(
    `Simulate a sign-up: curl -X POST http://127.0.0.1:${emulator.port}/__emulator/sign-up -d '{"username":"alice"}'`,
  );
}

// The journal's tables in the local D1 (idempotent).
const migrate = spawnSync(
  join(root, 'node_modules', '.bin', 'wrangler'),
  ['d1', 'migrations', 'apply', 'logto-automations-journal', '--local'],
  { cwd: root, stdio: 'inherit', env: { ...process.env, CI: 'true', WRANGLER_SEND_METRICS: 'false' } },
);
if (migrate.status !== 0) process.exit(migrate.status ?? 1);

const args = [
  'dev',
  '--ip',
  '127.0.0.1',
  '--port',
  String(port),
  '--inspector-port',
  String(inspectorPort),
  '--test-scheduled',
];
for (const value of vars) args.push('--var', value);
console.log(`Worker: http://127.0.0.1:${port}  (try /healthz and /readyz; cron: /__scheduled)`);
const wrangler = spawn(join(root, 'node_modules', '.bin', 'wrangler'), args, {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' },
});
const stop = () => wrangler.kill('SIGTERM');
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
wrangler.on('exit', async (code) => {
  await emulator?.close();
  process.exit(code ?? 0);
});
