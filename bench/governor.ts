import { startBenchPipeline } from './load';
import { machine, percentile, printTable, round } from './report';

/**
 * Governor benchmark: N callers that share no memory (each a Worker of its own in local workerd, through the
 * production token cache and Management API client) make calls at once against the emulator, which enforces Logto
 * Cloud's limit on arrival (429 beyond it). Side by side in one run: each caller with a budget of its own (what a
 * per-isolate budget does) and all of them through the tenant's governor Durable Object (what the Worker does).
 * Reports the most calls that arrived in any window, the 429s, the time against the minimum, and what one grant
 * costs (an uncontended acquire + release round trip to the object).
 */
const DEFAULT_CALLERS = 4;
const DEFAULT_CALLS_PER_CALLER = 150;
const CONCURRENCY_PER_CALLER = 8;

/** The most arrivals in any window of `windowMs` (sliding over the arrival times). */
function maxPerWindow(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while ((sorted[i] ?? 0) - (sorted[j] ?? 0) >= windowMs) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

export async function main(args: string[]) {
  const callers = Number(args[0] ?? DEFAULT_CALLERS);
  const perCaller = Number(args[1] ?? DEFAULT_CALLS_PER_CALLER);
  const [requests, seconds] = (args[2] ?? '200/10').split('/').map(Number) as [number, number];
  const budget = { requests, windowMs: seconds * 1000 };
  const { emulator, runtime, close } = await startBenchPipeline(
    {},
    { LOGTO_RATE_BUDGET: `${requests}/${seconds}s` },
    undefined,
    Array.from({ length: callers }, (_, i) => ({
      name: `caller-${i}`,
      entry: 'bench/workers/governor-caller.ts',
    })),
  );
  try {
    const post = (i: number, path: string, body: unknown) =>
      (runtime.callers[i] as { fetch: typeof fetch })
        .fetch(`http://caller${path}`, { method: 'POST', body: JSON.stringify(body) })
        .then((response) => response.json() as Promise<Record<string, unknown>>);
    // Warm-up: each isolate gets its token (one token request in all, through the object's broker).
    await Promise.all(
      Array.from({ length: callers }, (_, i) => post(i, '/calls', { mode: 'isolate', calls: 1 })),
    );
    // The first window's calls go at once; every further `requests` calls need one more window.
    const minimumSeconds =
      (Math.ceil((callers * perCaller) / budget.requests) - 1) * (budget.windowMs / 1000);
    const rows: Record<string, string | number>[] = [];
    const figures: Record<string, { maxAdmittedPerWindow: number; status429: number; seconds: number }> = {};
    for (const mode of ['isolate', 'deployment'] as const) {
      emulator.faults.resetCounts();
      emulator.faults.setRateLimit(budget);
      // A fresh window on both sides: wait one window so neither starts with the other's calls still counted.
      await new Promise((resolve) => setTimeout(resolve, budget.windowMs + 500));
      const started = performance.now();
      const results = await Promise.all(
        Array.from({ length: callers }, (_, i) =>
          post(i, '/calls', { mode, calls: perCaller, concurrency: CONCURRENCY_PER_CALLER }),
        ),
      );
      const seconds = (performance.now() - started) / 1000;
      const arrivals = emulator.faults.arrivals();
      const failed = results.reduce((n, result) => n + Number(result.failed ?? 0), 0);
      figures[mode] = {
        maxAdmittedPerWindow: maxPerWindow(arrivals, budget.windowMs),
        status429: emulator.faults.rateLimited(),
        seconds: round(seconds, 1),
      };
      rows.push({
        variant: mode === 'isolate' ? 'a budget per isolate' : 'governor object (project)',
        calls: callers * perCaller,
        'arrived at Logto': arrivals.length,
        'most in one window': figures[mode].maxAdmittedPerWindow,
        budget: budget.requests,
        '429s': figures[mode].status429,
        'calls failed': failed,
        seconds: figures[mode].seconds,
        'minimum s': minimumSeconds,
      });
    }
    const grants = (await post(0, '/grants', { n: 300 })) as { ms: number[] };
    const facts = machine();
    printTable(
      `Governor: ${callers} callers (separate isolates) × ${perCaller} calls, budget ${budget.requests} per ` +
        `${budget.windowMs / 1000} s enforced by the emulator on arrival; ${facts.cores} cores`,
      rows,
    );
    printTable('One grant (acquire + release round trip to the object, uncontended, 300 samples)', [
      {
        p50: `${round(percentile(grants.ms, 50), 2)} ms`,
        p99: `${round(percentile(grants.ms, 99), 2)} ms`,
        max: `${round(Math.max(...grants.ms), 2)} ms`,
      },
    ]);
    const project = figures.deployment as {
      maxAdmittedPerWindow: number;
      status429: number;
      seconds: number;
    };
    console.log(
      JSON.stringify({
        bench: 'governor',
        callers,
        budget: budget.requests,
        windowSeconds: budget.windowMs / 1000,
        maxAdmittedPerWindow: project.maxAdmittedPerWindow,
        status429: project.status429,
        grantMs: { p50: round(percentile(grants.ms, 50), 3), p99: round(percentile(grants.ms, 99), 3) },
        seconds: project.seconds,
        minimumSeconds,
        perIsolateBudget: figures.isolate,
        cores: facts.cores,
      }),
    );
  } finally {
    await close();
  }
}
