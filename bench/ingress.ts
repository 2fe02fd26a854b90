import { BENCH_SIGNING_KEY, drive, signedSignUp, startBenchPipeline, waitForJournal } from './load';
import { machine, printTable, round } from './report';

/**
 * Ingress benchmark: unique signed PostRegister deliveries through `POST /webhooks/logto`, beside (1) a bare Hono
 * route answering 200 and (2) the durable floor, a route that answers after one D1 insert of the raw body — all
 * three in the same local workerd (Miniflare API, no wrangler proxy), interleaved in rounds so machine noise hits
 * each alike. Afterwards every accepted delivery's Workflow run must complete (counted in the journal).
 */
const DEFAULT_REQUESTS = 3000;
const ROUNDS = 6;
const CONCURRENCY = 16;

export async function main(args: string[]) {
  const requests = Number(args[0] ?? DEFAULT_REQUESTS);
  const { emulator, runtime, close } = await startBenchPipeline();
  try {
    const variants = {
      bare: (body: string) => runtime.floor.fetch('http://bench/bare', { method: 'POST', body }),
      floor: (body: string) => runtime.floor.fetch('http://bench/floor', { method: 'POST', body }),
      project: (body: string, signature: string) =>
        runtime.project.fetch('http://bench/webhooks/logto', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'logto-signature-sha-256': signature },
          body,
        }),
    };
    type Name = keyof typeof variants;
    const names = Object.keys(variants) as Name[];
    const batch = async (name: Name, count: number) => {
      const deliveries = await Promise.all(
        Array.from({ length: count }, () => signedSignUp(emulator.store, BENCH_SIGNING_KEY)),
      );
      return deliveries.map(({ body, signature }) => ({ send: () => variants[name](body, signature) }));
    };

    // Warm-up: compile, open the databases, get the token.
    for (const name of names) await drive(await batch(name, 50), CONCURRENCY);
    const totals = Object.fromEntries(
      names.map((name) => [name, { ms: 0, count: 0, statuses: {} as Record<number, number> }]),
    );
    const perRound = Math.ceil(requests / ROUNDS);
    let drainMs = 0;
    for (let round = 0; round < ROUNDS; round++) {
      // Rotate the order so no variant always runs right after another's background work.
      const order = names.map((_, i) => names[(i + round) % names.length] as Name);
      for (const name of order) {
        const result = await drive(await batch(name, perRound), CONCURRENCY);
        // Let the round's runs finish before the next round, so no variant is measured under another's work.
        const drained = await waitForJournal(runtime.journal, 600_000);
        drainMs += drained.ms;
        const total = totals[name] as { ms: number; count: number; statuses: Record<number, number> };
        total.ms += result.ms;
        total.count += perRound;
        for (const [status, n] of Object.entries(result.statuses)) {
          total.statuses[Number(status)] = (total.statuses[Number(status)] ?? 0) + n;
        }
      }
    }
    const drained = await waitForJournal(runtime.journal, 600_000);
    const rps = Object.fromEntries(
      names.map((name) => {
        const total = totals[name] as { ms: number; count: number };
        return [name, round(total.count / (total.ms / 1000), 1)];
      }),
    ) as Record<Name, number>;
    const accepted = (totals.project?.statuses[202] ?? 0) + 50;
    const completed = (drained.counts.done ?? 0) + (drained.counts.failed ?? 0);
    const facts = machine();
    printTable(
      `Ingress: unique signed deliveries, ${CONCURRENCY} in flight, ${ROUNDS} interleaved rounds, ${facts.cores} cores`,
      [
        ...names.map((name) => ({
          variant:
            name === 'project'
              ? 'project (/webhooks/logto)'
              : name === 'floor'
                ? 'durable floor (1 D1 insert)'
                : 'bare Hono 200',
          requests: totals[name]?.count ?? 0,
          'req/s': rps[name],
          statuses: JSON.stringify(totals[name]?.statuses),
        })),
      ],
    );
    console.log(
      `\nproject ÷ floor = ${round(rps.project / rps.floor)}   project ÷ bare = ${round(rps.project / rps.bare)}` +
        `\nruns: ${accepted} accepted (incl. warm-up), ${drained.counts.done ?? 0} done, ${drained.counts.failed ?? 0} failed, ${round(drainMs / 1000, 1)} s of draining between rounds (${round(accepted / (drainMs / 1000), 1)} runs/s)` +
        (drained.timedOut ? ' (TIMED OUT)' : ''),
    );
    console.log(
      JSON.stringify({
        bench: 'ingress',
        requests: totals.project?.count ?? 0,
        rps,
        ratio: round(rps.project / rps.floor),
        ratioToBare: round(rps.project / rps.bare),
        workflowsCompleted: completed,
        workflowsAccepted: accepted,
        workflowsDone: drained.counts.done ?? 0,
        runsPerSecond: round(accepted / (drainMs / 1000), 1),
        concurrency: CONCURRENCY,
        cores: facts.cores,
      }),
    );
  } finally {
    await close();
  }
}
