import { createServiceProvider } from '../../src/composition';
import { createLocalGovernor } from '../../src/governor';
import { createLogtoClient, GovernorBusyError, type RateGovernor } from '../../src/logto-client';

/**
 * One caller of the governor benchmark: a Worker of its own (its own isolate, sharing no memory with the others)
 * that makes Management API calls through the production token cache and client.
 *
 * - `POST /calls {mode, calls, concurrency}`: `deployment` paces with the tenant's governor Durable Object (what the
 *   Worker does); `isolate` with a budget of its own (what a per-isolate budget does). A caller told to wait by the
 *   governor waits in its own context and asks again, as a Workflow would sleep.
 * - `POST /grants {n}`: times `n` uncontended grant + release round trips to the governor object.
 */
const services = createServiceProvider();
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
let ownBudget: RateGovernor | undefined;

async function calls(env: Env, mode: string, total: number, concurrency: number) {
  const { config, tokens, logto } = services(env);
  const budget = config.rateBudget ?? { requests: 200, windowMs: 10_000 };
  ownBudget ??= createLocalGovernor({ budget, now: Date.now, sleep });
  const client =
    mode === 'deployment'
      ? logto
      : createLogtoClient({ endpoint: config.endpoint, tokens, governor: ownBudget });
  const query = new URLSearchParams({ page: '1', page_size: '1' });
  let next = 0;
  let failed = 0;
  let waits = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next++;
        for (;;) {
          try {
            await client.request('GET', '/users', { query, governorWaitMs: 30_000 });
            break;
          } catch (error) {
            if (error instanceof GovernorBusyError) {
              waits++;
              await sleep(error.retryAfterMs);
              continue;
            }
            failed++;
            break;
          }
        }
      }
    }),
  );
  return { failed, waits };
}

async function grants(env: Env, n: number) {
  const stub = env.GOVERNOR.get(env.GOVERNOR.idFromName('bench:grant-cost'));
  const budget = { requests: 1_000_000, windowMs: 10_000 };
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    const answer = await stub.acquire({ budget, leaseMs: 10_000, maxWaitMs: 0 });
    if (answer.granted) await stub.release(answer.ticket);
    ms.push(performance.now() - started);
  }
  return { ms };
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const body = (await request.json()) as {
      mode?: string;
      calls?: number;
      concurrency?: number;
      n?: number;
    };
    const path = new URL(request.url).pathname;
    if (path === '/grants') return Response.json(await grants(env, body.n ?? 100));
    return Response.json(
      await calls(env, body.mode ?? 'deployment', body.calls ?? 100, body.concurrency ?? 8),
    );
  },
};
