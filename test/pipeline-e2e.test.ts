import { beforeAll, describe, expect, it } from 'vitest';
import { SIGNUP_ROLES, setupPipeline } from './pipeline';

let pipeline: Awaited<ReturnType<typeof setupPipeline>>;
beforeAll(async () => {
  pipeline = await setupPipeline();
});

describe('sign-up on the emulator → webhook → Worker → Workflow → roles in Logto', () => {
  it('assigns the SIGNUP_ROLE_NAMES roles once although one sign-up fires two events', async () => {
    const { emulator, journal } = pipeline;
    const user = await emulator.signUp({ username: 'alice' });
    expect(emulator.webhooks.deliveries.map((d) => [d.event, d.outcome])).toEqual([
      ['User.Created', 202],
      ['PostRegister', 202],
    ]);
    const counts = await pipeline.drain();
    expect(counts).toEqual({ done: 2 });
    expect(pipeline.rolesOf(user.id)).toEqual([...SIGNUP_ROLES].sort());
    expect(emulator.faults.count('POST /api/users/:userId/roles')).toBe(1);
    const action = await journal.getAction(`signup-roles:${user.id}`);
    expect(action?.status).toBe('done');
  });
});
