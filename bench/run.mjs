#!/usr/bin/env node
// `npm run bench -- <name>`: runs bench/<name>.ts (bundled for Node with esbuild). Names: every bench/*.ts but the
// helpers listed below — burst, governor, ingress, recovery, signup, size, token (docs/benchmarks.md).
import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importTs } from '../scripts/node-bundle.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter(
    (file) =>
      file.endsWith('.ts') && !['report.ts', 'memory-kv.ts', 'load.ts', 'floor-worker.ts'].includes(file),
  )
  .map((file) => file.replace(/\.ts$/, ''));
const name = process.argv[2];
if (!name || !available.includes(name)) {
  console.error(`usage: npm run bench -- <${available.join('|')}>`);
  process.exit(2);
}
const bench = await importTs(`bench/${name}.ts`);
await bench.main(process.argv.slice(3));
process.exit(0);
