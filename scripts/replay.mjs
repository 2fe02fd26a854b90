#!/usr/bin/env node
// `npm run replay -- <command>`: see scripts/replay-cli.ts (usage with no arguments).
import { importTs } from './node-bundle.mjs';

const { runReplayCli } = await importTs('scripts/replay-cli.ts');
process.exitCode = await runReplayCli(process.argv.slice(2), {
  env: process.env,
  fetch: globalThis.fetch,
  print: (line) => console.log(line),
});
