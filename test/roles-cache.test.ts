import { describe, expect, it } from 'vitest';
import { setupLogto } from './helpers';

describe('role lookups by name', () => {
  it('concurrent lookups of one name share one request, and the answer is cached', async () => {
    const { emulator, logto } = await setupLogto();
    emulator.store.roles.set('r1', {
      tenantId: 'default',
      id: 'r1',
      name: 'member',
      description: 'member',
      type: 'User',
      isDefault: false,
    });
    const found = await Promise.all(Array.from({ length: 50 }, () => logto.roles.findByName('member')));
    expect(new Set(found.map((role) => role?.id))).toEqual(new Set(['r1']));
    await logto.roles.findByName('member');
    expect(emulator.faults.count('GET /api/roles')).toBe(1);
  });

  it('a failed lookup fails only its own caller: the others look the name up themselves', async () => {
    const { emulator, logto } = await setupLogto({
      client: { retry: { retries: 0, baseDelayMs: 1, maxDelayMs: 1 } },
    });
    emulator.store.roles.set('r2', {
      tenantId: 'default',
      id: 'r2',
      name: 'editor',
      description: 'editor',
      type: 'User',
      isDefault: false,
    });
    emulator.faults.add({ target: 'GET /api/roles', status: 500, times: 1, delayMs: 20 });
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () => logto.roles.findByName('editor')),
    );
    expect(results.filter((result) => result.status === 'rejected')).toHaveLength(1);
    expect(
      results.filter((result) => result.status === 'fulfilled').map((result) => result.value?.id),
    ).toEqual(Array(9).fill('r2'));
  });
});
