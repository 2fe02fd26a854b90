// Bundles a TypeScript entry (emulator, benchmark) for Node with esbuild and imports it.
// The repo's TypeScript uses extensionless imports (bundler resolution), which plain Node cannot load.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export async function importTs(entry) {
  const outdir = join(root, '.bench-tmp');
  mkdirSync(outdir, { recursive: true });
  const outfile = join(outdir, `${entry.replace(/[^a-z0-9]+/gi, '_')}.mjs`);
  await build({
    entryPoints: [join(root, entry)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    packages: 'external',
    logLevel: 'warning',
  });
  return import(`${pathToFileURL(outfile).href}?t=${Date.now()}`);
}
