import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { createJournal, type Journal } from '../src/journal';
import { beginRun, claimActions, createEnqueue, finishRun, settleBeforeStart } from '../src/pipeline';

const event = (eventKey: string) => ({
  eventKey,
  source: 'logto',
  eventType: 'PostRegister',
  status: 'received' as const,
  rawBody: '{}',
});
const claim = (automation: string, actionKey: string) => [{ automation, actionKey }];
const fail = (journal: Journal, key: string) =>
  finishRun(journal, key, { done: [], left: [], failure: { code: 'timeout', message: 'x' }, result: {} });

describe('claims (the policy over the ledger)', () => {
  it('before the runs start: the first event of a batch claims, the second is covered without a run', async () => {
    const journal = createJournal(env.JOURNAL);
    for (const key of ['pre-a', 'pre-b']) await journal.events.record(event(key));
    const key = 'signup-roles:pre-user';
    const settled = await settleBeforeStart(journal, [
      { eventKey: 'pre-a', claims: claim('signup-roles', key) },
      { eventKey: 'pre-b', claims: claim('signup-roles', key) },
    ]);
    expect([...settled]).toEqual(['pre-b']);
    expect(await journal.events.get('pre-b')).toMatchObject({
      status: 'covered',
      coveredBy: 'pre-a',
      attempts: 0,
      result: {
        'signup-roles': { skipped: true, reason: 'already claimed by event pre-a', coveredBy: 'pre-a' },
      },
    });
    // The owner's run finds its own claim, fresh: it has not run yet, so no partial work can exist.
    const first = await beginRun(journal, 'pre-a', () => [key]);
    expect(first.entry).toMatchObject({ status: 'received', attempts: 0 });
    expect(first.claims.get(key)).toEqual({ act: true, resumed: false });
    // A retried start (it may have acted after the first): the same claim is resumed, by either path.
    expect((await beginRun(journal, 'pre-a', () => [key])).claims.get(key)).toEqual({
      act: true,
      resumed: true,
    });
    expect((await claimActions(journal, 'pre-a', [key])).get(key)).toEqual({ act: true, resumed: true });
    // A plan that needs another action claims it and releases the one no longer planned.
    const changed = await beginRun(journal, 'pre-a', () => ['other:pre-user']);
    expect(changed.claims.get('other:pre-user')).toEqual({ act: true, resumed: true });
    expect(await journal.actions.get(key)).toBeUndefined();
    await finishRun(journal, 'pre-a', {
      done: [{ actionKey: 'other:pre-user', detail: null }],
      left: [],
      result: {},
    });
    const again = await beginRun(journal, 'pre-a', () => ['other:pre-user']);
    expect(again.entry?.status).toBe('done');
    expect(again.claims.size).toBe(0);
    expect(await journal.events.get('pre-a')).toMatchObject({ status: 'done', attempts: 3 });
  });

  it('an event with one action free and one taken still runs (for the free one)', async () => {
    const journal = createJournal(env.JOURNAL);
    for (const key of ['mix-a', 'mix-b']) await journal.events.record(event(key));
    await claimActions(journal, 'mix-a', ['roles:mix']);
    const settled = await settleBeforeStart(journal, [
      { eventKey: 'mix-b', claims: [...claim('roles', 'roles:mix'), ...claim('org', 'org:mix')] },
    ]);
    expect(settled.size).toBe(0);
    expect(await journal.events.get('mix-b')).toMatchObject({ status: 'received' });
    expect(await journal.actions.get('org:mix')).toMatchObject({ eventKey: 'mix-b', status: 'claimed' });
  });

  it('a claim whose owner failed is taken over and stays resumed; a done action is never claimed again', async () => {
    const journal = createJournal(env.JOURNAL);
    for (const key of ['take-a', 'take-b', 'take-c']) await journal.events.record(event(key));
    await beginRun(journal, 'take-a', () => ['org:take']);
    await fail(journal, 'take-a');
    expect(
      (await settleBeforeStart(journal, [{ eventKey: 'take-c', claims: claim('org', 'org:take') }])).size,
    ).toBe(0);
    await beginRun(journal, 'take-c', () => []);
    expect((await claimActions(journal, 'take-c', ['org:take'])).get('org:take')).toEqual({
      act: true,
      resumed: true,
    });
    // Not run yet, but the failed run may have created the organization: still resumed.
    expect((await claimActions(journal, 'take-c', ['org:take'])).get('org:take')).toEqual({
      act: true,
      resumed: true,
    });
    await finishRun(journal, 'take-c', {
      done: [{ actionKey: 'org:take', detail: { id: 'o1' } }],
      left: [],
      result: {},
    });
    expect(await journal.actions.get('org:take')).toMatchObject({ eventKey: 'take-c', status: 'done' });
    expect((await claimActions(journal, 'take-a', ['org:take'])).get('org:take')).toEqual({
      act: false,
      by: 'take-c',
      status: 'done',
    });
  });
});

describe('races, with real concurrency: never two events acting on one action', () => {
  it('30 events racing for one action: exactly one acts', async () => {
    const journal = createJournal(env.JOURNAL);
    const keys = Array.from({ length: 30 }, (_, i) => `race-${i}`);
    for (const key of keys) await journal.events.record(event(key));
    const verdicts = await Promise.all(
      keys.map(async (key) => (await beginRun(journal, key, () => ['roles:race'])).claims.get('roles:race')),
    );
    expect(verdicts.filter((verdict) => verdict?.act)).toHaveLength(1);
    const owner = await journal.actions.get('roles:race');
    expect(verdicts[keys.indexOf(owner?.eventKey ?? '')]).toEqual({ act: true, resumed: false });
  });

  it('a takeover racing a replay of the failed owner: exactly one of them acts, 25 times over', async () => {
    const journal = createJournal(env.JOURNAL);
    const enqueue = createEnqueue({ journal, wake: async () => {} });
    let takerWon = 0;
    for (let round = 0; round < 25; round++) {
      const [owner, taker, action] = [`own-${round}`, `tak-${round}`, `org:tr-${round}`];
      for (const key of [owner, taker]) await journal.events.record(event(key));
      await beginRun(journal, owner, () => [action]);
      await fail(journal, owner);
      const jitter = () => new Promise((resolve) => setTimeout(resolve, Math.random() * 4));
      const [replayed, taken] = await Promise.all([
        (async () => {
          await jitter();
          await enqueue.reopen([owner]);
          return (await beginRun(journal, owner, () => [action])).claims.get(action);
        })(),
        (async () => {
          await jitter();
          return (await beginRun(journal, taker, () => [action])).claims.get(action);
        })(),
      ]);
      expect([replayed?.act, taken?.act].filter(Boolean)).toHaveLength(1);
      if (taken?.act) takerWon++;
    }
    // Both orders happened (otherwise this test could not fail).
    expect(takerWon).toBeGreaterThan(0);
    expect(takerWon).toBeLessThan(25);
  });

  it('the takeover re-checks in its own statement: decided on a read from before the owner’s replay, it fails', async () => {
    const journal = createJournal(env.JOURNAL);
    const enqueue = createEnqueue({ journal, wake: async () => {} });
    for (const key of ['slow-own', 'slow-tak']) await journal.events.record(event(key));
    await beginRun(journal, 'slow-own', () => ['org:slow']);
    await fail(journal, 'slow-own');
    // The taker read the owner as failed…
    const [read] = await journal.batch([journal.actions.ownersStatement(['org:slow'])]);
    expect(read?.results[0]).toMatchObject({ owner_status: 'failed' });
    // …then the operator replayed the owner, whose run finds its claim…
    await enqueue.reopen(['slow-own']);
    expect((await beginRun(journal, 'slow-own', () => ['org:slow'])).claims.get('org:slow')?.act).toBe(true);
    // …so the taker's takeover, decided on the stale read, changes nothing.
    expect(await journal.actions.takeOver('org:slow', 'slow-own', 'slow-tak')).toBe(false);
    expect(await journal.actions.get('org:slow')).toMatchObject({ eventKey: 'slow-own' });
  });

  it('the stale-run sweep racing a live run: a row the run touched is never failed', async () => {
    const journal = createJournal(env.JOURNAL);
    await journal.events.record(event('live-a'));
    await beginRun(journal, 'live-a', () => []);
    const seen = await journal.events.get('live-a');
    // The live run writes (a retried start) after the sweep read the row.
    await new Promise((resolve) => setTimeout(resolve, 5));
    await beginRun(journal, 'live-a', () => []);
    const failure = { code: 'run_missing', message: 'gone' };
    expect(await journal.events.failIfUnchanged('live-a', seen?.updatedAt ?? 0, failure)).toBe(false);
    expect(await journal.events.get('live-a')).toMatchObject({ status: 'running' });
    const current = await journal.events.get('live-a');
    expect(await journal.events.failIfUnchanged('live-a', current?.updatedAt ?? 0, failure)).toBe(true);
  });
});

describe('covered, and re-opened when the covering event fails for good', () => {
  it('the covered event is found once its owner failed, re-opened as a new run, and takes the action over', async () => {
    const journal = createJournal(env.JOURNAL);
    let wakes = 0;
    const enqueue = createEnqueue({
      journal,
      wake: async () => {
        wakes++;
      },
    });
    for (const key of ['cov-a', 'cov-b']) await journal.events.record(event(key));
    await settleBeforeStart(journal, [
      { eventKey: 'cov-a', claims: claim('org', 'org:cov') },
      { eventKey: 'cov-b', claims: claim('org', 'org:cov') },
    ]);
    expect(await journal.events.get('cov-b')).toMatchObject({ status: 'covered', coveredBy: 'cov-a' });
    expect(await journal.actions.coveredByFailed(10)).not.toContain('cov-b');
    await beginRun(journal, 'cov-a', () => ['org:cov']);
    await fail(journal, 'cov-a');
    expect(await journal.actions.coveredByFailed(10)).toContain('cov-b');
    const { reopened } = await enqueue.reopen(['cov-b'], ['covered', 'done']);
    expect(reopened.map((entry) => [entry.eventKey, entry.status, entry.replays])).toEqual([
      ['cov-b', 'received', 1],
    ]);
    expect(wakes).toBe(1);
    expect((await journal.events.listToStart(100)).map((entry) => entry.eventKey)).toContain('cov-b');
    expect(await journal.actions.coveredByFailed(10)).not.toContain('cov-b');
    const run = await beginRun(journal, 'cov-b', () => ['org:cov']);
    expect(run.claims.get('org:cov')).toEqual({ act: true, resumed: true });
  });
});

describe('watermarks and effect entries', () => {
  it('a watermark moves forward only; the event holding it may retry', async () => {
    const { links } = createJournal(env.JOURNAL);
    expect(await links.advance('stripe', 'u1', 100, 'e1')).toBe(true);
    expect(await links.advance('stripe', 'u1', 90, 'e0')).toBe(false);
    expect(await links.advance('stripe', 'u1', 100, 'e1')).toBe(true);
    expect(await links.advance('stripe', 'u1', 120, 'e2')).toBe(true);
    expect(await links.advance('stripe', 'u1', 110, 'e1')).toBe(false);
    expect(await links.watermark('stripe', 'u1')).toEqual({ position: 120, eventKey: 'e2' });
  });

  it('counts entries into a non-idempotent step and tells when the previous one was', async () => {
    let now = 1_000;
    const { actions } = createJournal(env.JOURNAL, () => now);
    expect(await actions.enterEffect('org:x:create')).toEqual({ entries: 1, previousAt: null, at: 1_000 });
    now = 5_000;
    expect(await actions.enterEffect('org:x:create')).toEqual({ entries: 2, previousAt: 1_000, at: 5_000 });
    expect(await actions.lastEffectEntry('org:x:create')).toBe(5_000);
    // An entry whose call never left (the governor had no slot) is taken back.
    now = 9_000;
    const entry = await actions.enterEffect('org:x:create');
    await actions.leaveEffect('org:x:create', entry.at);
    expect(await actions.lastEffectEntry('org:x:create')).toBe(5_000);
    await actions.leaveEffect('org:y:create', (await actions.enterEffect('org:y:create')).at);
    expect(await actions.lastEffectEntry('org:y:create')).toBeNull();
  });
});
