import { describe, expect, it } from 'vitest';
import { SIGNUP_ROLES, setupPipeline } from './pipeline';

describe('200 sign-ups with 20 % of Management API and token calls failing (5xx, 429, timeouts)', () => {
  it('every sign-up ends done with exactly the configured roles, each acted on once, counts add up', async () => {
    const pipeline = await setupPipeline({ seed: 7 });
    const { emulator, journal } = pipeline;
    // ≈ 20 % of every call fails: 7 % 503, then 7.5 % of the rest 429, then 8 % of the rest time out.
    emulator.faults.add({ target: 'api', status: 503, probability: 0.07 });
    emulator.faults.add({ target: 'api', status: 429, retryAfterSeconds: 1, probability: 0.075 });
    emulator.faults.add({ target: 'api', delayMs: 600, probability: 0.08 });
    emulator.faults.add({ target: 'token', status: 503, probability: 0.2 });

    const users = [];
    for (let batch = 0; batch < 10; batch++) {
      users.push(
        ...(await Promise.all(
          Array.from({ length: 20 }, (_, i) => emulator.signUp({ username: `fault_${batch}_${i}` })),
        )),
      );
    }
    expect(emulator.webhooks.deliveries.every((delivery) => delivery.outcome === 202)).toBe(true);
    const counts = await pipeline.drain(60_000);
    emulator.faults.clear();

    // Journal: two events per sign-up, one done and one covered by it; nothing failed, nothing stuck.
    expect(counts).toEqual({ done: 200, covered: 200 });
    const expected = [...SIGNUP_ROLES].sort();
    for (const user of users) {
      expect(pipeline.rolesOf(user.id)).toEqual(expected);
      const action = await journal.actions.get(`signup-roles:${user.id}`);
      expect(action?.status).toBe('done');
    }
    // The faults really happened, and retries absorbed them.
    const calls = emulator.faults.count('POST /api/users/:userId/roles');
    expect(calls).toBeGreaterThan(200);
    expect(emulator.faults.status429()).toBeGreaterThan(0);
    // Each sign-up's action was claimed by exactly one of its two events: the other skipped without calling Logto.
    const done = [];
    let cursor: string | undefined;
    do {
      const page = await journal.events.list({ status: 'done', limit: 100, cursor });
      done.push(...page.entries);
      cursor = page.nextCursor;
    } while (cursor);
    const owners = new Set<string>();
    for (const user of users)
      owners.add(((await journal.actions.get(`signup-roles:${user.id}`)) as { eventKey: string }).eventKey);
    expect(owners.size).toBe(200);
    expect(done.filter((entry) => owners.has(entry.eventKey)).length).toBe(200);
  }, 120_000);
});
