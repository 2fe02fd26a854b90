// Node side of `npm run bench -- size` (bench/size.ts): wrangler's dry run, esbuild with wrangler's options, gzip.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const run = promisify(execFile);
const KIB = 1024;

export const gzipSize = (text) => gzipSync(text).length;
export const byteLength = (text) => Buffer.byteLength(text);
export const tempDir = () => mkdtempSync(join(tmpdir(), 'logto-automations-size-'));
export const absolute = (path) => resolve(path);
export const removeDir = (dir) => rmSync(dir, { recursive: true, force: true });
export const exit = (code) => process.exit(code);

/** The entry and `keep_names` (wrangler's default: true) from wrangler.toml. */
export function wranglerSettings() {
  const toml = readFileSync(join(root, 'wrangler.toml'), 'utf8');
  const main = /^main\s*=\s*"([^"]+)"/m.exec(toml)?.[1] ?? 'src/index.ts';
  const keepNames = /^keep_names\s*=\s*(true|false)/m.exec(toml)?.[1] !== 'false';
  return { main, keepNames };
}

const scale = (unit) => (unit === 'MiB' ? KIB * KIB : unit === 'KiB' ? KIB : 1);

/** `wrangler deploy --dry-run --minify --outdir DIR`, offline: its "Total Upload" line, in bytes. */
export async function wranglerDryRun(outdir) {
  const { stdout, stderr } = await run(
    join(root, 'node_modules', '.bin', 'wrangler'),
    ['deploy', '--dry-run', '--minify', '--outdir', outdir],
    {
      cwd: root,
      env: {
        ...process.env,
        WRANGLER_SEND_METRICS: 'false',
        CLOUDFLARE_CF_FETCH_ENABLED: 'false',
        WRANGLER_LOG_PATH: join(outdir, 'logs'),
        NO_COLOR: '1',
      },
      maxBuffer: 16 * KIB * KIB,
      timeout: 50_000,
    },
  );
  const line = /Total Upload: ([\d.]+) (B|KiB|MiB) \/ gzip: ([\d.]+) (B|KiB|MiB)/.exec(
    `${stdout}\n${stderr}`,
  );
  if (!line) throw new Error(`wrangler printed no "Total Upload" line:\n${stdout}\n${stderr}`);
  return {
    line: line[0],
    rawBytes: Number(line[1]) * scale(line[2]),
    gzipBytes: Number(line[3]) * scale(line[4]),
    written: existsSync(join(outdir, 'index.js')),
  };
}

/** Resolves `from` as `to` would be from the same importer (e.g. hono/tiny → hono). */
const redirect = (from, to) => ({
  name: `redirect ${from}`,
  setup(builder) {
    builder.onResolve({ filter: new RegExp(`^${from.replace(/[/.]/g, '\\$&')}$`) }, (args) =>
      builder.resolve(to, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer }),
    );
  },
});

/**
 * Bundles `entry` (a path from the repo root) as wrangler 4 bundles a module Worker: es2024, the workerd/worker/browser
 * conditions, neutral platform, cloudflare:* and node:* external, minified; in memory, with metafile and source map.
 */
export async function bundleWorker(entry, { keepNames, redirects = {} }) {
  const result = await build({
    entryPoints: [entry],
    absWorkingDir: root,
    outfile: join(root, 'size-probe.js'),
    write: false,
    bundle: true,
    minify: true,
    keepNames,
    format: 'esm',
    target: 'es2024',
    platform: 'neutral',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['module', 'main'],
    external: ['cloudflare:*', 'node:*'],
    define: { 'process.env.NODE_ENV': '"production"' },
    loader: { '.js': 'jsx', '.mjs': 'jsx' },
    sourcemap: 'external',
    metafile: true,
    logLevel: 'silent',
    plugins: Object.entries(redirects).map(([from, to]) => redirect(from, to)),
  });
  const text = (suffix) => result.outputFiles.find((file) => file.path.endsWith(suffix))?.text ?? '';
  return { code: text('.js'), map: JSON.parse(text('.js.map')), meta: result.metafile };
}
