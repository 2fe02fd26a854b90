#!/usr/bin/env node
// `npm run ops -- <command>` (also `npm run replay`): see scripts/ops-cli.ts (usage with no arguments).
import { Presets, SingleBar } from 'cli-progress';
import { importTs } from './node-bundle.mjs';

const { runOpsCli } = await importTs('scripts/ops-cli.ts');
process.exitCode = await runOpsCli(process.argv.slice(2), {
  env: process.env,
  fetch: globalThis.fetch,
  print: (line) => console.log(line),
  // A bar on a terminal only: piped output stays line by line.
  progress: process.stdout.isTTY
    ? (label, total) => {
        const bar = new SingleBar(
          { format: `${label} [{bar}] {value}/{total}`, hideCursor: true },
          Presets.shades_classic,
        );
        bar.start(total, 0);
        return { update: (done) => bar.update(Math.min(done, total)), stop: () => bar.stop() };
      }
    : undefined,
});
