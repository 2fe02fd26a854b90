#!/usr/bin/env node
// `npm run connect -- [options]`: see scripts/connect-cli.ts (usage: --help) and docs/connect.md.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importTs } from './node-bundle.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const envAt = argv.findIndex((arg) => arg === '--env' || arg.startsWith('--env='));
const wranglerEnv =
  envAt < 0 ? undefined : argv[envAt].includes('=') ? argv[envAt].slice(6) : argv[envAt + 1];

/**
 * The Worker's [vars] from wrangler.toml (of --env, as wrangler reads them), so LOGTO_*, WORKER_URL, LOGTO_HOOK_IDS
 * and SIGNUP_ROLE_NAMES need not be repeated in the shell; a non-empty environment variable wins.
 */
async function workerVars() {
  try {
    const { unstable_readConfig } = await import('wrangler');
    const config = unstable_readConfig(
      { config: join(root, 'wrangler.toml'), env: wranglerEnv },
      { hideWarnings: true },
    );
    return Object.fromEntries(
      Object.entries(config.vars ?? {}).filter(([, value]) => typeof value === 'string' && value),
    );
  } catch {
    return {};
  }
}

const shell = Object.fromEntries(Object.entries(process.env).filter(([, value]) => value));
const { runConnect } = await importTs('scripts/connect-cli.ts');
process.exitCode = await runConnect(argv, {
  env: { ...(await workerVars()), ...shell },
  fetch: globalThis.fetch,
  print: (line) => console.log(line),
  // The secret goes on stdin (wrangler reads it there when stdin is not a terminal), never into argv.
  runWrangler: (args, input) =>
    new Promise((resolve) => {
      const child = spawn('npx', ['wrangler', ...args], { cwd: root, stdio: ['pipe', 'inherit', 'inherit'] });
      child.on('error', () => resolve(127));
      child.on('close', (code) => resolve(code ?? 1));
      child.stdin.end(input ?? '');
    }),
});
