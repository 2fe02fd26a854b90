// Bundles a TypeScript entry (emulator, benchmark) for Node with esbuild and imports it.
// The repo's TypeScript uses extensionless imports (bundler resolution), which plain Node cannot load.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Bundles `entry` (a path from the repo root) with esbuild into `.bench-tmp/<name>.mjs` and returns the file's path.
 * `runtime: 'node'` keeps npm packages external (Node resolves them); `'workerd'` bundles everything but
 * `cloudflare:*`/`node:*` for a Worker run by Miniflare.
 */
export async function bundle(entry, { runtime = 'node', name = entry.replace(/[^a-z0-9]+/gi, '_') } = {}) {
  const outdir = join(root, '.bench-tmp');
  mkdirSync(outdir, { recursive: true });
  const outfile = join(outdir, `${name}.mjs`);
  const platform =
    runtime === 'node'
      ? { platform: 'node', target: 'node22', packages: 'external' }
      : {
          platform: 'neutral',
          target: 'es2023',
          conditions: ['workerd', 'worker', 'browser'],
          mainFields: ['module', 'main'],
          external: ['cloudflare:*', 'node:*'],
        };
  await build({
    entryPoints: [join(root, entry)],
    outfile,
    bundle: true,
    format: 'esm',
    logLevel: 'warning',
    ...platform,
  });
  return outfile;
}

export async function importTs(entry) {
  const outfile = await bundle(entry);
  return import(`${pathToFileURL(outfile).href}?t=${Date.now()}`);
}
