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
});
