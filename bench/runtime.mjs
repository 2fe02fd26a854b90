// Runs the Worker (and the benchmark baselines) in local workerd through Miniflare's API — no `wrangler dev` proxy in
// front: requests go Node → Miniflare's loopback listener → workerd, the same path for every variant.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Miniflare } from 'miniflare';
import { bundle } from '../scripts/node-bundle.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function statements(sql) {
  return sql
    .split(/;\s*$/m)
    .map((statement) => statement.replace(/^\s*--.*$/gm, '').trim())
    .filter(Boolean);
}

export async function startRuntime({ vars, entry = 'bench/workers/pipeline-only.ts' }) {
  const [projectScript, floorScript] = await Promise.all([
    bundle(entry, { runtime: 'workerd', name: 'worker' }),
    bundle('bench/floor-worker.ts', { runtime: 'workerd', name: 'floor-worker' }),
  ]);
  const common = { modules: true, compatibilityDate: '2026-04-01', compatibilityFlags: ['nodejs_compat'] };
  const mf = new Miniflare({
    host: '127.0.0.1',
    port: 0,
    workers: [
      {
        ...common,
        name: 'project',
        scriptPath: projectScript,
        bindings: vars,
        kvNamespaces: ['TOKEN_CACHE'],
        d1Databases: { JOURNAL: 'journal' },
        workflows: {
          EVENT_WORKFLOW: { name: 'logto-automations-events', className: 'LogtoEventWorkflow' },
        },
      },
      { ...common, name: 'floor', scriptPath: floorScript, d1Databases: { FLOOR_DB: 'floor' } },
    ],
  });
  const url = await mf.ready;
  const journal = await mf.getD1Database('JOURNAL', 'project');
  const migrations = readdirSync(join(root, 'migrations'))
    .filter((file) => file.endsWith('.sql'))
    .sort();
  for (const file of migrations) {
    for (const statement of statements(readFileSync(join(root, 'migrations', file), 'utf8'))) {
      await journal.prepare(statement).run();
    }
  }
  const floorDb = await mf.getD1Database('FLOOR_DB', 'floor');
  await floorDb
    .prepare(
      'CREATE TABLE IF NOT EXISTS deliveries (id INTEGER PRIMARY KEY, body TEXT NOT NULL, received_at INTEGER)',
    )
    .run();
  return {
    url: url.href.replace(/\/$/, ''),
    project: await mf.getWorker('project'),
    floor: await mf.getWorker('floor'),
    journal,
    close: () => mf.dispose(),
  };
}
