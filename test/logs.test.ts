import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { captureLogs } from './helpers';
import { setupPipeline } from './pipeline';

/** Structured logs: one JSON line per event transition and run outcome, with identifiers only. */
let pipeline: Awaited<ReturnType<typeof setupPipeline>>;
beforeAll(async () => {
  pipeline = await setupPipeline();
});
afterEach(() => vi.restoreAllMocks());

describe('structured logs', () => {
  it('a failed sign-up logs recorded → running → failed as JSON lines with type, source, user, automation and code; never the payload', async () => {
    const { emulator } = pipeline;
    const { lines, raw } = captureLogs();
    const role = [...emulator.store.roles.values()].find((item) => item.name === 'beta-tester');
    if (role) emulator.store.roles.delete(role.id);
    const user = await emulator.signUp({ username: 'logged', primaryEmail: 'logged@secret-domain.test' });
    await pipeline.drain();
    if (role) emulator.store.roles.set(role.id, role);

    expect(lines.filter((line) => 'unstructured' in line)).toEqual([]);
    const mine = lines.filter((line) => line.userId === user.id);
    const recorded = mine.filter((line) => line.msg === 'event.recorded');
    expect(recorded.map((line) => line.eventType).sort()).toEqual(['PostRegister', 'User.Created']);
    expect(recorded[0]).toMatchObject({
      level: 'info',
      source: 'logto',
      status: 'received',
      via: 'delivered',
    });
    expect(mine.some((line) => line.msg === 'event.running')).toBe(true);
    const failed = mine.find((line) => line.msg === 'event.failed');
    expect(failed).toMatchObject({
      level: 'error',
      automation: 'signup-roles',
      code: 'role_not_found',
      source: 'logto',
    });
    expect(typeof failed?.eventKey).toBe('string');
    expect(typeof failed?.latencyMs).toBe('number');
    // Identifiers only: the email in the payload never reaches a log line.
    expect(raw.join('\n')).not.toContain('secret-domain');
  });
});
