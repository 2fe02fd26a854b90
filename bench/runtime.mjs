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

/** The project's Durable Objects, as wrangler.toml declares them (SQLite-backed). */
const PROJECT_OBJECTS = {
  GOVERNOR: { className: 'LogtoGovernor', useSQLite: true },
  STARTER: { className: 'RunStarter', useSQLite: true },
};

/**
 * `callers`: extra workers (each its own isolate: they share no memory) bound to the project's governor object, for
 * the governor benchmark: `{ name, entry, vars }`.
 */
export async function startRuntime({ vars, entry = 'bench/workers/pipeline-only.ts', callers = [] }) {
  const [projectScript, floorScript, ...callerScripts] = await Promise.all([
    bundle(entry, { runtime: 'workerd', name: 'worker' }),
    bundle('bench/floor-worker.ts', { runtime: 'workerd', name: 'floor-worker' }),
    ...callers.map((caller) => bundle(caller.entry, { runtime: 'workerd', name: caller.name })),
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
        durableObjects: PROJECT_OBJECTS,
      },
      { ...common, name: 'floor', scriptPath: floorScript, d1Databases: { FLOOR_DB: 'floor' } },
      ...callers.map((caller, i) => ({
        ...common,
        name: caller.name,
        scriptPath: callerScripts[i],
        bindings: { ...vars, ...caller.vars },
        kvNamespaces: ['TOKEN_CACHE'],
        durableObjects: {
          GOVERNOR: { className: 'LogtoGovernor', scriptName: 'project', useSQLite: true },
        },
      })),
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
    callers: await Promise.all(callers.map((caller) => mf.getWorker(caller.name))),
    journal,
    close: () => mf.dispose(),
  };
}
