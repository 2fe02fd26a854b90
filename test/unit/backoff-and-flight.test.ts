import { describe, expect, it } from 'vitest';
import { backoffDelayMs, parseRetryAfterMs } from '../../src/http-retry';
import { createValueFlight } from '../../src/value-flight';
import { MAX_CALL_ATTEMPTS, stepBackoffMs } from '../../src/workflow/backoff';

describe('backoff', () => {
  it('durable step backoff doubles from 2 s to at most 5 min, deterministically', () => {
    expect([1, 2, 3, 4, 8, 9, 10].map(stepBackoffMs)).toEqual([
      2_000, 4_000, 8_000, 16_000, 256_000, 300_000, 300_000,
    ]);
    const total = Array.from({ length: MAX_CALL_ATTEMPTS - 1 }, (_, i) => stepBackoffMs(i + 1)).reduce(
      (a, b) => a + b,
    );
    expect(total).toBeLessThan(15 * 60_000);
  });

  it('inline backoff has full jitter between half and all of the capped ceiling', () => {
    const policy = { retries: 3, baseDelayMs: 200, maxDelayMs: 5_000 };
    expect(backoffDelayMs(policy, 1, () => 0)).toBe(100);
    expect(backoffDelayMs(policy, 1, () => 1)).toBe(200);
    expect(backoffDelayMs(policy, 10, () => 1)).toBe(5_000);
  });

  it('Retry-After as seconds or an HTTP date; garbage is ignored', () => {
    expect(parseRetryAfterMs('3', 0)).toBe(3_000);
    expect(parseRetryAfterMs(new Date(10_000).toUTCString(), 4_000)).toBe(6_000);
    expect(parseRetryAfterMs('soon', 0)).toBeUndefined();
    expect(parseRetryAfterMs(null, 0)).toBeUndefined();
  });
});

describe('value flight (loading without shared promises)', () => {
  it('concurrent callers wait for the first one’s value by polling: one load', async () => {
    const flight = createValueFlight({ pollMs: 2 });
    let value: string | undefined;
    let loads = 0;
    const load = async () => {
      loads++;
      await new Promise((resolve) => setTimeout(resolve, 30));
      value = 'v';
      return value;
    };
    const results = await Promise.all(Array.from({ length: 20 }, () => flight.get(() => value, load)));
    expect(new Set(results)).toEqual(new Set(['v']));
    expect(loads).toBe(1);
  });

  it('when the load fails, each waiting caller loads by itself (one failure does not fail them all)', async () => {
    const flight = createValueFlight({ pollMs: 2 });
    let value: string | undefined;
    let loads = 0;
    const load = async () => {
      const n = ++loads;
      await new Promise((resolve) => setTimeout(resolve, 10));
      if (n === 1) throw new Error('401');
      value = 'v';
      return value;
    };
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => flight.get(() => value, load)));
    expect(results.filter((result) => result.status === 'rejected')).toHaveLength(1);
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(4);
  });

  it('a caller stops waiting for a load that never ends and loads by itself', async () => {
    const flight = createValueFlight({ pollMs: 2, waitMs: 40 });
    const hung = flight.get(
      () => undefined,
      () => new Promise<string>(() => {}),
    );
    void hung;
    const started = Date.now();
    await expect(
      flight.get(
        () => undefined,
        async () => 'mine',
      ),
    ).resolves.toBe('mine');
    expect(Date.now() - started).toBeGreaterThanOrEqual(35);
  });
});
