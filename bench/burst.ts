import { BENCH_ROLE_ID, BENCH_SIGNING_KEY, startBenchPipeline, waitForJournal } from './load';
import { machine, printTable, round } from './report';

/**
 * Burst benchmark: N sign-ups at once on the emulator (each fires User.Created then PostRegister to the Worker in
 * local workerd), the emulator's Management API limited to R requests/s (429 + Retry-After beyond, like Logto Cloud's
 * firewall). Reports lost runs (a sign-up whose user lacks the roles), duplicated actions, 429s seen, drain time and
 * the minimum possible: Management API calls needed ÷ R.
 */
const SENDER_CONNECTIONS = 32;

function pooled(size: number): typeof fetch {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (input, init) => {
    if (active >= size) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await fetch(input, init);
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

export async function main(args: string[]) {
  const signUps = Number(args[0] ?? 2000);
  const rate = Number(args[1] ?? 20);
  const { emulator, runtime, close } = await startBenchPipeline(
    { rateLimit: { requests: rate, windowMs: 1000 } },
    // The operator states the tenant's limit; the client paces to it instead of learning it from 429s.
    { LOGTO_RATE_BUDGET: `${rate}/1s` },
  );
  emulator.webhooks.add({ url: `${runtime.url}/webhooks/logto`, signingKey: BENCH_SIGNING_KEY });
  // All sign-ups start at once; their deliveries share a pool of connections like an HTTP client's agent (4,000
  // simultaneous sockets into local workerd get reset, which would measure the loopback, not the pipeline).
  emulator.webhooks.setDeliver(pooled(SENDER_CONNECTIONS));
  try {
    const started = performance.now();
    const startedAt = Date.now();
    const users = await Promise.all(
      Array.from({ length: signUps }, (_, i) => emulator.signUp({ username: `burst_${i}` })),
    );
    const sentMs = performance.now() - started;
    const drained = await waitForJournal(runtime.journal, 900_000);
    const drainSeconds = (performance.now() - started) / 1000;

    const delivered = emulator.webhooks.deliveries.filter((delivery) => delivery.outcome === 202).length;
    const lost = users.filter((user) => !emulator.store.userRoles.get(user.id)?.has(BENCH_ROLE_ID)).length;
    const { results } = await runtime.journal
      .prepare(`SELECT COUNT(*) AS n FROM actions WHERE status = 'done'`)
      .all<{ n: number }>();
    const actions = Number(results[0]?.n ?? 0);
    const roleCalls = emulator.faults.count('POST /api/users/:userId/roles');
    const lookupCalls = emulator.faults.count('GET /api/roles');
    // Minimum: one role assignment per sign-up (Logto skips roles a user has) plus one lookup of the role by name.
    const callsNeeded = signUps + 1;
    const minimumSeconds = callsNeeded / rate;
    const duplicated =
      Math.max(0, roleCalls - emulator.faults.status429() - signUps) + Math.max(0, actions - signUps);
    const admitted = emulator.faults.admitted().map((at) => (at - startedAt) / 1000);
    const firstCall = admitted[0] ?? 0;
    const lastCall = admitted.at(-1) ?? 0;
    const perTenSeconds = new Map<number, number>();
    for (const at of admitted) {
      const bucket = Math.floor(at / 10) * 10;
      perTenSeconds.set(bucket, (perTenSeconds.get(bucket) ?? 0) + 1);
    }
    const facts = machine();
    printTable(
      `Burst: ${signUps} sign-ups at once, Management API limited to ${rate} req/s, ${facts.cores} cores`,
      [
        { figure: 'webhooks delivered (2 per sign-up)', value: `${delivered} / ${signUps * 2}` },
        { figure: 'journal', value: JSON.stringify(drained.counts) },
        { figure: 'sign-ups whose user lacks the role (lost)', value: lost },
        { figure: 'actions done (one per sign-up)', value: actions },
        { figure: 'POST /users/:id/roles calls', value: roleCalls },
        { figure: 'GET /roles calls', value: lookupCalls },
        { figure: '429s answered by the emulator', value: emulator.faults.status429() },
        {
          figure: `deliveries answered in (${SENDER_CONNECTIONS} connections)`,
          value: `${round(sentMs / 1000, 1)} s`,
        },
        {
          figure: 'first / last Management API call',
          value: `${round(firstCall, 1)} s / ${round(lastCall, 1)} s`,
        },
        {
          figure: 'calls admitted per 10 s',
          value: [...perTenSeconds].map(([bucket, n]) => `${bucket}s:${n}`).join(' '),
        },
        { figure: 'drain (first sign-up → last run done)', value: `${round(drainSeconds, 1)} s` },
        { figure: `minimum (${callsNeeded} calls ÷ ${rate}/s)`, value: `${round(minimumSeconds, 1)} s` },
        { figure: 'drain ÷ minimum', value: round(drainSeconds / minimumSeconds) },
      ],
    );
    console.log(
      JSON.stringify({
        bench: 'burst',
        events: signUps * 2,
        signUps,
        rateLimitRps: rate,
        lost,
        duplicated,
        status429: emulator.faults.status429(),
        drainSeconds: round(drainSeconds, 1),
        minimumSeconds: round(minimumSeconds, 1),
        drainRatio: round(drainSeconds / minimumSeconds),
        firstCallSeconds: round(firstCall, 1),
        lastCallSeconds: round(lastCall, 1),
        managementApiCalls: roleCalls + lookupCalls,
        timedOut: drained.timedOut === true,
        cores: facts.cores,
      }),
    );
  } finally {
    await close();
  }
}
