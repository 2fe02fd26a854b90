import { env } from 'cloudflare:workers';
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
    expect(counts).toEqual({ done: 1, covered: 1 });
    expect(pipeline.rolesOf(user.id)).toEqual([...SIGNUP_ROLES].sort());
    expect(emulator.faults.count('POST /api/users/:userId/roles')).toBe(1);
    const action = await journal.actions.get(`signup-roles:${user.id}`);
    expect(action?.status).toBe('done');
    // The second event found the action claimed when its run was about to start: it is covered by the first, without
    // a Workflow run.
    const { entries } = await journal.events.list({ limit: 2 });
    const second = entries.find((entry) => entry.eventKey !== action?.eventKey);
    expect(second).toMatchObject({ status: 'covered', coveredBy: action?.eventKey });
    expect(second?.result).toEqual({
      'signup-roles': {
        skipped: true,
        reason: expect.stringMatching(new RegExp(`^already (claimed|done) by event ${action?.eventKey}$`)),
        coveredBy: action?.eventKey,
      },
    });
    // No run ever started for it (no attempt). (Asking the engine for an instance that does not exist makes the local
    // engine log an uncaught rejection, so the journal's count is the check.)
    expect(second?.attempts).toBe(0);
    const owner = await env.EVENT_WORKFLOW.get(`evt-${action?.eventKey}`);
    expect((await owner.status()).status).toBe('complete');
  });
});
