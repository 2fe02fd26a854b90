import { createManagementApi } from '@logto/api/management';
import { DEFAULT_EMULATOR_APP } from '../emulator';
import { seededRandom } from '../emulator/faults';
import { serveEmulator } from '../emulator/serve';
import { createTokenBroker, createTokenCache, type TokenBrokerClient } from '../src/kv-token-cache';
import { createLogtoClient } from '../src/logto-client';
import { createMemoryKv } from './memory-kv';
import { machine, percentile, printTable, round } from './report';

/**
 * Token benchmark: 10,000 Management API calls spread over 8 isolates within one token lifetime, against the
 * emulator served on 127.0.0.1, for three ways of getting the token. Counts token-endpoint requests and the time
 * each call spends obtaining its token.
 */
const CALLS = 10_000;
const ISOLATES = 8;
/** Calls in flight at once across the isolates; the first wave hits every cold isolate together. */
const CONCURRENCY = 16;
/** Arrivals spread over this much (virtual) time: inside one 3600 s token lifetime. */
const SPAN_SECONDS = 3_300;
/** Simulated token-endpoint latency (Logto reads the app, signs a JWT, writes a grant). */
const TOKEN_LATENCY_MS = 20;
const KV_LATENCY_MS = 2;
/** Round trip from an isolate to the tenant's Durable Object (the token broker). */
const BROKER_RTT_MS = 2;
const RESOURCE = 'https://default.logto.app/api';

interface CallOutcome {
  waitMs: number;
  waitedOnEndpoint: boolean;
}
type Isolate = () => Promise<CallOutcome>;
type Outcome = CallOutcome & { afterWarmup: boolean };

async function drive(isolates: Isolate[], clock?: { set(ms: number): void }) {
  const random = seededRandom(42);
  const plan = Array.from({ length: CALLS }, (_, i) => ({
    at: (i * SPAN_SECONDS * 1000) / CALLS,
    isolate: Math.floor(random() * isolates.length),
  }));
  const outcomes: Outcome[] = [];
  let warmedAt = Number.POSITIVE_INFINITY;
  let next = 0;
  const worker = async () => {
    while (next < plan.length) {
      const call = plan[next++];
      if (!call) break;
      clock?.set(call.at);
      const started = performance.now();
      const outcome = await (isolates[call.isolate] as Isolate)();
      warmedAt = Math.min(warmedAt, started + outcome.waitMs);
      outcomes.push({ ...outcome, afterWarmup: started > warmedAt });
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return outcomes;
}

/** The emulator on 127.0.0.1 with the token endpoint's simulated latency. */
async function startEmulator(now?: () => number) {
  const served = await serveEmulator(0, now ? { now } : {});
  served.emulator.faults.add({ target: 'token', delayMs: TOKEN_LATENCY_MS });
  return served;
}

/** Runs the plan, then reads the emulator's token-request count and stops it. */
async function measure(served: Awaited<ReturnType<typeof startEmulator>>, run: () => Promise<Outcome[]>) {
  const outcomes = await run();
  const tokenRequests = served.emulator.faults.count('POST /oidc/token');
  await served.close();
  return { outcomes, tokenRequests };
}

async function project() {
  const start = Date.now();
  let virtualNow = start;
  const clock = {
    now: () => virtualNow,
    set: (offset: number) => {
      virtualNow = start + offset;
    },
  };
  const served = await startEmulator(clock.now);
  const { kv } = createMemoryKv({ now: clock.now, latencyMs: KV_LATENCY_MS });
  const background: Promise<unknown>[] = [];
  const target = {
    endpoint: served.emulator.endpoint,
    issuer: served.emulator.issuer,
    resource: RESOURCE,
    appId: DEFAULT_EMULATOR_APP.id,
    kv,
    now: clock.now,
  };
  // The tenant's Durable Object, modelled by the broker it runs, one round trip away from every isolate.
  const inner = createTokenBroker({ ...target, appSecret: DEFAULT_EMULATOR_APP.secret });
  const rtt = () => new Promise((resolve) => setTimeout(resolve, BROKER_RTT_MS));
  const broker: TokenBrokerClient = {
    token: async (request) => {
      await rtt();
      return inner.token(request);
    },
    drop: async (token) => {
      await rtt();
      await inner.drop(token);
    },
  };
  const isolates = Array.from({ length: ISOLATES }, (): Isolate => {
    const tokens = createTokenCache({ ...target, broker, waitUntil: (promise) => background.push(promise) });
    let last: CallOutcome = { waitMs: 0, waitedOnEndpoint: false };
    const timed = {
      getToken: async () => {
        const began = performance.now();
        const { accessToken, source } = await tokens.acquire();
        last = { waitMs: performance.now() - began, waitedOnEndpoint: source === 'endpoint' };
        return accessToken;
      },
      invalidate: tokens.invalidate,
    };
    const logto = createLogtoClient({ endpoint: served.emulator.endpoint, tokens: timed, now: clock.now });
    const query = new URLSearchParams({ page: '1', page_size: '1' });
    return async () => {
      await logto.request('GET', '/users', { query });
      return last;
    };
  });
  return measure(served, async () => {
    const outcomes = await drive(isolates, clock);
    await Promise.all(background);
    return outcomes;
  });
}

async function logtoApi() {
  const served = await startEmulator();
  const isolates = Array.from({ length: ISOLATES }, (): Isolate => {
    const { apiClient } = createManagementApi('default', {
      clientId: DEFAULT_EMULATOR_APP.id,
      clientSecret: DEFAULT_EMULATOR_APP.secret,
      baseUrl: served.emulator.endpoint,
      apiIndicator: RESOURCE,
    });
    return async () => {
      const began = performance.now();
      let waitMs = 0;
      const { error } = await apiClient.GET('/api/users', {
        params: { query: { page: 1, page_size: 1 } },
        // Called once the client has its token: the time until then is the token wait.
        fetch: (request: Request) => {
          waitMs = performance.now() - began;
          return fetch(request);
        },
      });
      if (error) throw new Error('logtoApi call failed');
      return { waitMs, waitedOnEndpoint: waitMs >= TOKEN_LATENCY_MS };
    };
  });
  return measure(served, () => drive(isolates));
}

async function naive() {
  const served = await startEmulator();
  const { endpoint } = served.emulator;
  const isolate: Isolate = async () => {
    const began = performance.now();
    const response = await fetch(`${endpoint}/oidc/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${btoa(`${DEFAULT_EMULATOR_APP.id}:${DEFAULT_EMULATOR_APP.secret}`)}`,
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: RESOURCE, scope: 'all' }),
    });
    const { access_token } = (await response.json()) as { access_token: string };
    const waitMs = performance.now() - began;
    const api = await fetch(`${endpoint}/api/users?page=1&page_size=1`, {
      headers: { authorization: `Bearer ${access_token}` },
    });
    if (!api.ok) throw new Error('naive call failed');
    await api.arrayBuffer();
    return { waitMs, waitedOnEndpoint: true };
  };
  return measure(served, () => drive(Array.from({ length: ISOLATES }, () => isolate)));
}

export async function main(): Promise<void> {
  const results = { project: await project(), logtoApi: await logtoApi(), naive: await naive() };
  const rows = Object.entries(results).map(([variant, { outcomes, tokenRequests }]) => {
    const waits = outcomes.map((outcome) => outcome.waitMs);
    return {
      variant,
      calls: outcomes.length,
      tokenRequests,
      'tokenWait p50 ms': round(percentile(waits, 50), 3),
      'tokenWait p99 ms': round(percentile(waits, 99), 3),
      'tokenWait max ms': round(Math.max(...waits), 1),
      'waited on endpoint after warm-up': outcomes.filter((o) => o.afterWarmup && o.waitedOnEndpoint).length,
    };
  });
  const facts = machine();
  printTable(
    `token: ${CALLS} calls, ${ISOLATES} isolates sharing one KV, ${CONCURRENCY} in flight, over ${SPAN_SECONDS} s of ` +
      `one 3600 s token lifetime; token endpoint +${TOKEN_LATENCY_MS} ms; ${facts.cores} cores, node ${facts.node}`,
    rows,
  );
  const projectWaits = results.project.outcomes.map((outcome) => outcome.waitMs);
  const waitsOf = (variant: keyof typeof results) => {
    const waits = results[variant].outcomes.map((outcome) => outcome.waitMs);
    return { p50: round(percentile(waits, 50), 3), p99: round(percentile(waits, 99), 3) };
  };
  console.log(
    JSON.stringify({
      bench: 'token',
      calls: CALLS,
      isolates: ISOLATES,
      tokenRequests: {
        project: results.project.tokenRequests,
        logtoApi: results.logtoApi.tokenRequests,
        naive: results.naive.tokenRequests,
      },
      tokenWaitMs: {
        p50: round(percentile(projectWaits, 50), 3),
        p99: round(percentile(projectWaits, 99), 3),
      },
      tokenWaitMsByVariant: {
        project: waitsOf('project'),
        logtoApi: waitsOf('logtoApi'),
        naive: waitsOf('naive'),
      },
      waitedOnEndpointAfterWarmup: rows[0]?.['waited on endpoint after warm-up'] ?? 0,
      concurrency: CONCURRENCY,
      cores: facts.cores,
    }),
  );
}
