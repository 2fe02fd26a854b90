import { BENCH_ROLE_ID, BENCH_SIGNING_KEY, startBenchPipeline, waitForJournal } from './load';
import { machine, printTable, round } from './report';

/**
 * Recovery benchmark: the Worker is unreachable while N sign-ups happen on the emulator (2 deliveries each, all
 * refused and kept in Logto's hook log), then it comes back and one recovery cron reads the hook log. Reports how
 * many of the lost deliveries were journaled (each once), the Management API calls it took per recovered delivery,
 * and the time until every recovered event's run is done, against the minimum: calls needed ÷ rate (the log pages,
 * one role lookup and one role assignment per sign-up), the emulator limited to R requests/s.
 */
export async function main(args: string[]) {
  const signUps = Number(args[0] ?? 500);
  const rate = Number(args[1] ?? 20);
  const { emulator, runtime, close } = await startBenchPipeline(
    { rateLimit: { requests: rate, windowMs: 1000 } },
    { LOGTO_RATE_BUDGET: `${rate}/1s`, LOGTO_HOOK_IDS: 'bench-hook' },
  );
  // The hook points at a port nobody listens on: every delivery is refused and logged as Error.
  emulator.webhooks.add({
    id: 'bench-hook',
    url: 'http://127.0.0.1:9/webhooks/logto',
    signingKey: BENCH_SIGNING_KEY,
  });
  try {
    const users = [];
    for (let i = 0; i < signUps; i += 50) {
      users.push(
        ...(await Promise.all(
          Array.from({ length: Math.min(50, signUps - i) }, (_, j) =>
            emulator.signUp({ username: `lost_${i + j}` }),
          ),
        )),
      );
    }
    await emulator.webhooks.settled();
    const lost = emulator.webhooks.log.filter((entry) => entry.payload.result === 'Error').length;
    emulator.faults.resetCounts();
    const started = performance.now();
    const cron = await runtime.project.scheduled({ cron: '*/5 * * * *' });
    if (cron.outcome !== 'ok') throw new Error(`the recovery cron ended ${cron.outcome}`);
    const drained = await waitForJournal(runtime.journal, 900_000);
    const drainSeconds = (performance.now() - started) / 1000;

    const { results } = await runtime.journal
      .prepare(
        `SELECT COUNT(*) AS n, COUNT(DISTINCT event_key) AS k FROM events WHERE arrived_via = 'recovered'`,
      )
      .all<{ n: number; k: number }>();
    const recovered = Number(results[0]?.n ?? 0);
    const duplicated = recovered - Number(results[0]?.k ?? 0) + Math.max(0, recovered - lost);
    const logCalls = emulator.faults.count('GET /api/hooks/:id/recent-logs');
    const roleCalls = emulator.faults.count('POST /api/users/:userId/roles');
    const lookupCalls = emulator.faults.count('GET /api/roles');
    const missing = users.filter((user) => !emulator.store.userRoles.get(user.id)?.has(BENCH_ROLE_ID)).length;
    const callsNeeded = Math.ceil(lost / 100) + 1 + signUps;
    const minimumSeconds = callsNeeded / rate;
    const facts = machine();
    printTable(
      `Recovery: ${signUps} sign-ups while the Worker was down (${lost} deliveries refused), ${rate} req/s, ${facts.cores} cores`,
      [
        { figure: 'deliveries refused (in the hook log as Error)', value: lost },
        { figure: 'journaled as recovered', value: recovered },
        { figure: 'duplicated', value: duplicated },
        { figure: 'sign-ups whose user lacks the role', value: missing },
        { figure: 'journal', value: JSON.stringify(drained.counts) },
        { figure: 'hook-log pages read (GET recent-logs)', value: logCalls },
        { figure: 'log calls per recovered delivery', value: round(logCalls / Math.max(1, recovered), 4) },
        { figure: 'role assignments / lookups', value: `${roleCalls} / ${lookupCalls}` },
        { figure: 'drain (cron → last run done)', value: `${round(drainSeconds, 1)} s` },
        { figure: `minimum (${callsNeeded} calls ÷ ${rate}/s)`, value: `${round(minimumSeconds, 1)} s` },
        { figure: 'drain ÷ minimum', value: round(drainSeconds / minimumSeconds) },
      ],
    );
    console.log(
      JSON.stringify({
        bench: 'recovery',
        lost,
        recovered,
        duplicated,
        managementApiCalls: logCalls + roleCalls + lookupCalls,
        callsPerRecovered: round(logCalls / Math.max(1, recovered), 4),
        drainSeconds: round(drainSeconds, 1),
        minimumSeconds: round(minimumSeconds, 1),
        drainRatio: round(drainSeconds / minimumSeconds),
        usersMissingTheRole: missing,
        timedOut: drained.timedOut === true,
        cores: facts.cores,
      }),
    );
  } finally {
    await close();
  }
}
