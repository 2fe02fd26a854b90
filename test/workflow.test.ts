import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { createPipelineProvider } from '../src/composition';
import { eventKey } from '../src/events';
import { STALE_RUNNING_MS, sweepJournal } from '../src/handlers/scheduled';
import { beginRun } from '../src/pipeline';
import { MAX_CALL_ATTEMPTS } from '../src/workflow';
import { runCron, SIGNUP_ROLES, setupPipeline } from './pipeline';
import worker, { testRuntime } from './worker-entry';

let pipeline: Awaited<ReturnType<typeof setupPipeline>>;
const pipelines = createPipelineProvider();
beforeAll(async () => {
  pipeline = await setupPipeline();
});

const ROLES_ROUTE = 'POST /api/users/:userId/roles';

/** A PostRegister for a user the emulator does not have (deleted before the run). */
const postRegisterFor = (userId: string) => ({
  event: 'PostRegister',
  interactionEvent: 'Register',
  createdAt: new Date().toISOString(),
  userAgent: 'Mozilla/5.0',
  userId,
  user: { id: userId, username: userId },
  application: { id: 'app', type: 'SPA', name: 'app', description: null },
});

describe('durable runs', () => {
  it('a role missing in Logto fails fast with role_not_found (no retries), visible in the journal', async () => {
    const { emulator, journal } = pipeline;
    const beta = [...emulator.store.roles.values()].find((role) => role.name === SIGNUP_ROLES[1]);
    if (!beta) throw new Error('role missing');
    emulator.store.roles.delete(beta.id);
    const user = await emulator.signUp();
    await pipeline.drain();
    emulator.store.roles.set(beta.id, beta);
    const failed = (await journal.events.list({ status: 'failed' })).entries;
    // The first event of the sign-up fails; the second is covered by it (not done: it did nothing).
    expect(failed.map((entry) => [entry.subject, entry.lastErrorCode])).toEqual([
      [user.id, 'role_not_found'],
    ]);
    const covered = (await journal.events.list({ status: 'covered' })).entries;
    expect(covered.map((entry) => [entry.subject, entry.coveredBy])).toEqual([
      [user.id, failed[0]?.eventKey],
    ]);
    expect(emulator.faults.count(ROLES_ROUTE)).toBe(0);
    expect(pipeline.rolesOf(user.id)).toEqual([]);
    // The covering event failed for good: the journal cron re-opens the covered one, which takes the action over
    // (the role exists again) and acts.
    await runCron('* * * * *');
    await pipeline.drain();
    expect(await journal.events.get(covered[0]?.eventKey ?? '')).toMatchObject({
      status: 'done',
      replays: 1,
    });
    expect(pipeline.rolesOf(user.id)).toEqual([...SIGNUP_ROLES].sort());
    expect(emulator.faults.count(ROLES_ROUTE)).toBe(1);
  });

  it('a user deleted before the run: 404 fails fast with Logto’s code after one call', async () => {
    const { emulator, journal } = pipeline;
    emulator.faults.resetCounts();
    await emulator.webhooks.emit(postRegisterFor('ghost-user'));
    await pipeline.drain();
    const entry = (await journal.events.list({ status: 'failed' })).entries.find(
      (e) => e.subject === 'ghost-user',
    );
    expect(entry?.lastErrorCode).toBe('entity.not_found');
    expect(entry?.attempts).toBe(1);
    expect(emulator.faults.count(ROLES_ROUTE)).toBe(1);
  });

  it('a 429 whose Retry-After is too long to wait inline is slept in a durable step, then the call succeeds', async () => {
    const { emulator, journal } = pipeline;
    emulator.faults.resetCounts();
    emulator.faults.add({ target: ROLES_ROUTE, status: 429, retryAfterSeconds: 6, times: 1 });
    const user = await emulator.signUp();
    await pipeline.drain();
    emulator.faults.clear();
    expect(pipeline.rolesOf(user.id)).toEqual([...SIGNUP_ROLES].sort());
    expect(emulator.faults.count(ROLES_ROUTE)).toBe(2);
    const instances = (await pipeline.introspector?.get()) ?? [];
    expect(instances.length).toBeGreaterThan(0);
    expect((await journal.actions.get(`signup-roles:${user.id}`))?.status).toBe('done');
  });

  it('retries exhausted on a persistent 503: the event is failed with the reason, after every attempt', async () => {
    const { emulator, journal } = pipeline;
    emulator.faults.resetCounts();
    emulator.faults.add({ target: ROLES_ROUTE, status: 503 });
    const user = await emulator.signUp();
    await pipeline.drain(30_000);
    emulator.faults.clear();
    const failed = (await journal.events.list({ status: 'failed' })).entries.find(
      (e) => e.subject === user.id,
    );
    expect(failed?.lastErrorCode).toBe('unknown');
    expect(failed?.lastErrorMessage).toContain('503');
    // Each durable attempt makes the client's call, which itself retries 3 times inline: 40 calls per run that tried.
    // The sign-up's second event either skipped (claim still held) or took over the failed claim and tried too.
    const calls = emulator.faults.count(ROLES_ROUTE);
    expect([MAX_CALL_ATTEMPTS * 4, MAX_CALL_ATTEMPTS * 8]).toContain(calls);
  });
});

describe('cron sweep', () => {
  it('restarts an event still received a minute after its start (the instance was lost)', async () => {
    const { emulator, journal } = pipeline;
    const user = await emulator.signUp({ username: 'lost-start' });
    await pipeline.drain();
    // A sign-up the starter marked started, but whose Workflow instance never came to be.
    const raw = JSON.stringify({ ...postRegisterFor(user.id), hookId: 'hook' });
    const key = await eventKey(new TextEncoder().encode(raw));
    const recorded = Date.now();
    await journal.events.record({
      eventKey: key,
      source: 'logto',
      eventType: 'PostRegister',
      subject: user.id,
      status: 'received',
      rawBody: raw,
    });
    await journal.batch([journal.events.markStartedStatement([key])]);
    const sweep = async () => {
      const ctx = createExecutionContext();
      await worker.scheduled(createScheduledController({ cron: '* * * * *' }), env, ctx);
      await waitOnExecutionContext(ctx);
    };
    await sweep();
    expect((await journal.events.get(key))?.status).toBe('received');
    testRuntime.now = () => recorded + 61_000;
    try {
      await sweep();
      await pipeline.drain();
    } finally {
      testRuntime.now = undefined;
    }
    // Started again, it found the sign-up's actions done by the first events: covered by them.
    expect(await journal.events.get(key)).toMatchObject({ status: 'covered' });
  });
});

describe('stale-run sweep', () => {
  it('fails a stale running event only when the engine says its instance does not exist, never on a transient error', async () => {
    const { journal } = pipeline;
    await journal.events.record({
      eventKey: 'stale-k',
      source: 'logto',
      eventType: 'PostRegister',
      subject: 'nobody',
      status: 'received',
      rawBody: '{}',
    });
    await beginRun(journal, 'stale-k', () => []);
    const later = () => Date.now() + STALE_RUNNING_MS + 60_000;
    const sweepWith = (error: Error) =>
      sweepJournal(
        { ...env, EVENT_WORKFLOW: { get: async () => Promise.reject(error) } as unknown as Workflow },
        pipelines(env),
        later,
      );
    expect((await sweepWith(new Error('Network connection lost.'))).failedRuns).toBe(0);
    expect(await journal.events.get('stale-k')).toMatchObject({ status: 'running' });
    expect((await sweepWith(new Error('instance.not_found'))).failedRuns).toBe(1);
    expect(await journal.events.get('stale-k')).toMatchObject({
      status: 'failed',
      lastErrorCode: 'run_missing',
    });
  });
});
