import { machine, printTable, round } from './report';
import {
  absolute,
  bundleWorker,
  byteLength,
  exit,
  gzipSize,
  removeDir,
  tempDir,
  type WorkerBundle,
  wranglerDryRun,
  wranglerSettings,
} from './size-build.mjs';

/**
 * Bundle-size benchmark: the Worker as `wrangler deploy --dry-run --minify` builds it (the figure a deployment
 * uploads), against the 60 KB gzip budget (KiB, as wrangler prints); what each dependency and each src/ module costs
 * (esbuild's metafile on the same entry with wrangler's options, gzip attributed by cutting each part out through the
 * source map); and alternatives built side by side in the same run.
 *
 * Options: `--outdir DIR` (keep wrangler's output there; default a temp dir, removed after), `--budget KB`
 * (default 60), `--check` (exit 1 over budget).
 */
const KIB = 1024;
const DEFAULT_BUDGET_KB = 60;
const GLUE = '(esbuild glue)';

const option = (args: string[], name: string): string | undefined => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};
const kb = (bytes: number) => round(bytes / KIB, 2);

/** The part a bundled file counts under: its npm package (hono's JSX runtime apart), its src/ module, or itself. */
function partOf(path: string): string {
  const parts = path.replace(/\\/g, '/').split('/');
  const modules = parts.lastIndexOf('node_modules');
  if (modules >= 0) {
    const name = parts.slice(modules + 1, modules + (parts[modules + 1]?.startsWith('@') ? 3 : 2)).join('/');
    return name === 'hono' && parts.includes('jsx') ? 'hono/jsx' : name;
  }
  const src = parts.indexOf('src');
  if (src >= 0) return parts.length - src > 2 ? `src/${parts[src + 1]}` : parts.slice(src).join('/');
  return parts.filter((part) => part !== '..' && part !== '.').join('/');
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** The fields of one source-map segment (base64 VLQ). */
function segmentFields(segment: string): number[] {
  const fields: number[] = [];
  let value = 0;
  let shift = 0;
  for (const char of segment) {
    const digit = BASE64.indexOf(char);
    value += (digit & 31) << shift;
    if (digit & 32) shift += 5;
    else {
      fields.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = 0;
      shift = 0;
    }
  }
  return fields;
}

/** The output cut into spans, each owned by the part its source-map segment points at (unmapped text: glue). */
function spansOf({ code, map }: WorkerBundle): { part: string; text: string }[] {
  const owners = map.sources.map(partOf);
  const lineMappings = map.mappings.split(';');
  const lines = code.split('\n');
  const spans: { part: string; text: string }[] = [];
  let source = 0;
  lines.forEach((line, index) => {
    let column = 0;
    let cursor = 0;
    let owner = GLUE;
    for (const segment of (lineMappings[index] ?? '').split(',')) {
      if (!segment) continue;
      const fields = segmentFields(segment);
      column += fields[0] ?? 0;
      if (column > cursor) spans.push({ part: owner, text: line.slice(cursor, column) });
      cursor = Math.max(cursor, column);
      if (fields.length > 1) {
        source += fields[1] ?? 0;
        owner = owners[source] ?? GLUE;
      }
    }
    spans.push({ part: owner, text: line.slice(cursor) + (index < lines.length - 1 ? '\n' : '') });
  });
  return spans;
}

interface Cost {
  part: string;
  files: number;
  rawBytes: number;
  /** gzip(bundle) − gzip(the bundle with this part's bytes cut out): what removing it would save. */
  gzipIfRemoved: number;
  /** gzip(bundle) × this part's share of the raw bytes. */
  gzipByShare: number;
}

/** Raw bytes per part (the metafile's bytesInOutput) and their gzip cost, marginal and proportional. */
function costsOf(bundle: WorkerBundle): { raw: number; gzip: number; parts: Cost[] } {
  const output = Object.values(bundle.meta.outputs).find((out) => out.entryPoint);
  const byPart = new Map<string, { files: number; rawBytes: number }>();
  for (const [path, input] of Object.entries(output?.inputs ?? {})) {
    const entry = byPart.get(partOf(path)) ?? { files: 0, rawBytes: 0 };
    entry.files += 1;
    entry.rawBytes += input.bytesInOutput;
    byPart.set(partOf(path), entry);
  }
  const raw = byteLength(bundle.code);
  const gzip = gzipSize(bundle.code);
  const spans = spansOf(bundle);
  const parts = [...byPart].map(([part, { files, rawBytes }]) => ({
    part,
    files,
    rawBytes,
    gzipIfRemoved:
      gzip -
      gzipSize(
        spans
          .filter((span) => span.part !== part)
          .map((span) => span.text)
          .join(''),
      ),
    gzipByShare: (gzip * rawBytes) / raw,
  }));
  return { raw, gzip, parts: parts.sort((a, b) => b.gzipIfRemoved - a.gzipIfRemoved) };
}

const isDependency = (part: string) =>
  !part.startsWith('src') && !part.startsWith('(') && !/\.[a-z]+$/.test(part);

export async function main(args: string[]) {
  const started = performance.now();
  const budgetKB = Number(option(args, '--budget') ?? DEFAULT_BUDGET_KB);
  const keep = option(args, '--outdir');
  const outdir = keep ? absolute(keep) : tempDir();
  const { main: entry, keepNames } = wranglerSettings();
  try {
    const [deployed, project, otherNames, fullHono, allRecipes, valibot, zodMini] = await Promise.all([
      wranglerDryRun(outdir),
      bundleWorker(entry, { keepNames }),
      bundleWorker(entry, { keepNames: !keepNames }),
      bundleWorker(entry, { keepNames, redirects: { 'hono/tiny': 'hono' } }),
      bundleWorker(entry, {
        keepNames,
        redirects: { '../automations.config': absolute('bench/size-probes/all-recipes.config.ts') },
      }),
      bundleWorker('bench/size-probes/valibot.ts', { keepNames }),
      bundleWorker('bench/size-probes/zod-mini.ts', { keepNames }),
    ]);
    const costs = costsOf(project);
    const dependencies = costs.parts.filter((cost) => isDependency(cost.part));
    const modules = costs.parts.filter((cost) => !isDependency(cost.part));
    const within = deployed.gzipBytes <= budgetKB * KIB;
    const facts = machine();

    printTable(`Bundle size (${facts.cores} cores, node ${facts.node})`, [
      { figure: 'wrangler deploy --dry-run --minify', value: deployed.line },
      { figure: `budget: ${budgetKB} KiB gzip`, value: within ? 'within' : 'OVER' },
      {
        figure: within ? 'to spare' : 'over by',
        value: `${kb(Math.abs(budgetKB * KIB - deployed.gzipBytes))} KiB`,
      },
      {
        figure: `esbuild, wrangler's options (keep_names ${keepNames}): raw / gzip`,
        value: `${kb(costs.raw)} / ${kb(costs.gzip)} KiB`,
      },
    ]);
    const row = (cost: Cost) => ({
      part: cost.part,
      files: cost.files,
      'raw KiB': kb(cost.rawBytes),
      'raw %': round((100 * cost.rawBytes) / costs.raw, 1),
      'gzip KiB if removed': kb(cost.gzipIfRemoved),
      'gzip KiB by share': kb(cost.gzipByShare),
    });
    console.log(
      '\ngzip per part: "if removed" = gzip of the bundle minus gzip of the same bundle with that part\'s bytes cut out' +
        ' (source map), "by share" = total gzip × its share of the raw bytes',
    );
    printTable('Dependencies', dependencies.map(row));
    printTable('src/ modules and other project files', modules.map(row));

    const built = (variant: string, bundle: WorkerBundle, note: string) => ({
      variant,
      'raw KiB': kb(byteLength(bundle.code)),
      'gzip KiB': kb(gzipSize(bundle.code)),
      'Δ gzip KiB': round(kb(gzipSize(bundle.code)) - kb(costs.gzip), 2),
      note,
    });
    printTable('Alternatives, the whole Worker built side by side (esbuild, same options)', [
      built('project', project, `as deployed (hono/tiny, keep_names ${keepNames})`),
      built(`keep_names = ${!keepNames}`, otherNames, 'wrangler.toml keep_names (wrangler default true)'),
      built('hono default preset', fullHono, "hono's SmartRouter instead of hono/tiny's PatternRouter"),
      built('every recipe imported', allRecipes, 'automations.config.ts importing stripe() and github() too'),
    ]);
    const probe = (variant: string, bundle: WorkerBundle) => ({
      variant,
      'raw KiB': kb(byteLength(bundle.code)),
      'gzip KiB': kb(gzipSize(bundle.code)),
    });
    printTable('Validator alone: one schema using every feature the project uses (bench/size-probes/)', [
      probe('valibot (the project)', valibot),
      probe('zod/mini', zodMini),
    ]);
    const seconds = round((performance.now() - started) / 1000, 1);
    console.log(`\n${seconds} s`);
    const toKB = (list: Cost[], pick: (cost: Cost) => number) =>
      Object.fromEntries(list.map((cost) => [cost.part, kb(pick(cost))]));
    console.log(
      JSON.stringify({
        bench: 'size',
        gzipKB: kb(deployed.gzipBytes),
        rawKB: kb(deployed.rawBytes),
        unit: 'KiB (1024 bytes), as wrangler prints',
        budgetKB,
        withinBudget: within,
        byDependency: toKB(dependencies, (cost) => cost.gzipIfRemoved),
        bySrcModule: toKB(modules, (cost) => cost.gzipIfRemoved),
        byDependencyRawKB: toKB(dependencies, (cost) => cost.rawBytes),
        attribution: 'gzip KiB if removed: gzip(bundle) - gzip(bundle without the part), via the source map',
        esbuild: { rawKB: kb(costs.raw), gzipKB: kb(costs.gzip), keepNames },
        alternativesGzipKB: {
          project: kb(costs.gzip),
          [`keepNames${keepNames ? 'Off' : 'On'}`]: kb(gzipSize(otherNames.code)),
          honoDefaultPreset: kb(gzipSize(fullHono.code)),
          everyRecipeImported: kb(gzipSize(allRecipes.code)),
        },
        validatorGzipKB: { valibot: kb(gzipSize(valibot.code)), zodMini: kb(gzipSize(zodMini.code)) },
        seconds,
        cores: facts.cores,
      }),
    );
    if (args.includes('--check') && !within) exit(1);
  } finally {
    if (!keep) removeDir(outdir);
  }
}
