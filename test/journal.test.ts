import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { createJournal } from '../src/journal';
import { createClock } from './helpers';

describe('journal (D1)', () => {
  it('records an event once: a duplicate key changes nothing', async () => {
    const journal = createJournal(env.JOURNAL);
    const event = {
      eventKey: 'k-dup',
      source: 'logto',
      eventType: 'PostRegister',
      subject: 'u1',
      status: 'received' as const,
      rawBody: '{}',
    };
    expect(await journal.record(event)).toEqual({ inserted: true });
    await journal.beginRun('k-dup', () => []);
    expect(await journal.record({ ...event, rawBody: '{"other":1}' })).toEqual({ inserted: false });
    expect(await journal.get('k-dup')).toMatchObject({ status: 'running', attempts: 1, rawBody: '{}' });
  });

  it('concurrent identical records insert exactly one row', async () => {
    const journal = createJournal(env.JOURNAL);
    const event = {
      eventKey: 'k-race',
      source: 'logto',
      eventType: 'User.Created',
      status: 'received' as const,
      rawBody: 'x',
    };
    const results = await Promise.all(Array.from({ length: 10 }, () => journal.record(event)));
    expect(results.filter((result) => result.inserted)).toHaveLength(1);
  });

  it('tracks status, attempts, errors (truncated) and finish time', async () => {
    const clock = createClock();
    const journal = createJournal(env.JOURNAL, clock.now);
    await journal.record({
      eventKey: 'k-fail',
      source: 'logto',
      eventType: 'PostRegister',
      status: 'received',
      rawBody: '{}',
    });
    await journal.beginRun('k-fail', () => []);
    await journal.beginRun('k-fail', () => []);
    clock.advance(5_000);
    await journal.markFailed('k-fail', { code: 'entity.not_found', message: 'x'.repeat(2_000) });
    const entry = await journal.get('k-fail');
    expect(entry).toMatchObject({
      status: 'failed',
      attempts: 2,
      lastErrorCode: 'entity.not_found',
      finishedAt: clock.now(),
    });
    expect(entry?.lastErrorMessage).toHaveLength(500);
    await journal.record({
      eventKey: 'k-ign',
      source: 'logto',
      eventType: 'Nope',
      status: 'ignored',
      rawBody: '{}',
    });
    expect((await journal.get('k-ign'))?.finishedAt).toBe(clock.now());
  });

  it('lists newest first with filters and a cursor over every page', async () => {
    const clock = createClock(Date.UTC(2030, 0, 1));
    const journal = createJournal(env.JOURNAL, clock.now);
    for (let i = 0; i < 7; i++) {
      clock.advance(1_000);
      await journal.record({
        eventKey: `page-${i}`,
        source: 'logto',
        eventType: i % 2 ? 'PostSignIn' : 'PostRegister',
        status: 'received',
        rawBody: '{}',
      });
    }
    const since = Date.UTC(2030, 0, 1);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await journal.list({ since, limit: 3, cursor });
      seen.push(...page.entries.map((entry) => entry.eventKey));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['page-6', 'page-5', 'page-4', 'page-3', 'page-2', 'page-1', 'page-0']);
    const signIns = await journal.list({ since, eventType: 'PostSignIn' });
    expect(signIns.entries.map((entry) => entry.eventKey)).toEqual(['page-5', 'page-3', 'page-1']);
    // Oldest first; rows of earlier tests in this file (received in 2026) are unstarted too.
    const unstarted = (await journal.listUnstarted(since + 3_500)).map((entry) => entry.eventKey);
    expect(unstarted.filter((key) => key.startsWith('page-'))).toEqual(['page-0', 'page-1', 'page-2']);
    expect(unstarted).not.toContain('page-3');
  });
});

describe('action claims', () => {
  const event = (eventKey: string) => ({
    eventKey,
    source: 'logto',
    eventType: 'PostRegister',
    status: 'received' as const,
    rawBody: '{}',
  });

  it('before the runs start: the first event of a batch claims, the second is done without a run', async () => {
    const journal = createJournal(env.JOURNAL);
    for (const key of ['pre-a', 'pre-b']) await journal.record(event(key));
    const claims = [{ automation: 'signup-roles', actionKey: 'signup-roles:pre-user' }];
    const settled = await journal.settleClaimedElsewhere([
      { eventKey: 'pre-a', claims },
      { eventKey: 'pre-b', claims },
    ]);
    expect([...settled]).toEqual(['pre-b']);
    expect(await journal.get('pre-b')).toMatchObject({
      status: 'done',
      result: { 'signup-roles': { skipped: true, reason: 'already claimed by event pre-a' } },
    });
    expect(await journal.get('pre-a')).toMatchObject({ status: 'received' });
    // The owner's run finds its own claim, fresh: it has not run yet, so no partial work can exist.
    const key = 'signup-roles:pre-user';
    const first = await journal.beginRun('pre-a', () => [key]);
    expect(first.entry).toMatchObject({ status: 'received', attempts: 0 });
    expect(first.claims.get(key)).toEqual({ act: true, resumed: false });
    expect(await journal.get('pre-a')).toMatchObject({ status: 'running', attempts: 1 });
    // A retried start (it may have acted after the first): the same claim is resumed, by either path.
    expect((await journal.beginRun('pre-a', () => [key])).claims.get(key)).toEqual({
      act: true,
      resumed: true,
    });
    expect((await journal.claimActions([key], 'pre-a')).get(key)).toEqual({ act: true, resumed: true });
    // A plan that needs another action claims it and releases the one no longer planned.
    const changed = await journal.beginRun('pre-a', () => ['other:pre-user']);
    expect(changed.claims.get('other:pre-user')).toEqual({ act: true, resumed: true });
    expect(await journal.getAction(key)).toBeUndefined();
    // A finished event is not started again.
    await journal.finishRun('pre-a', {
      actions: [{ actionKey: 'other:pre-user', detail: null }],
      result: {},
    });
    const again = await journal.beginRun('pre-a', () => ['other:pre-user']);
    expect(again.entry?.status).toBe('done');
    expect(again.claims.size).toBe(0);
    expect(await journal.get('pre-a')).toMatchObject({ status: 'done', attempts: 3 });
  });

  it('an event with one action free and one taken still runs (for the free one)', async () => {
    const journal = createJournal(env.JOURNAL);
    for (const key of ['mix-a', 'mix-b']) await journal.record(event(key));
    await journal.claimActions(['roles:mix'], 'mix-a');
    const settled = await journal.settleClaimedElsewhere([
      {
        eventKey: 'mix-b',
        claims: [
          { automation: 'roles', actionKey: 'roles:mix' },
          { automation: 'org', actionKey: 'org:mix' },
        ],
      },
    ]);
    expect(settled.size).toBe(0);
    expect(await journal.get('mix-b')).toMatchObject({ status: 'received' });
    expect(await journal.getAction('org:mix')).toMatchObject({ eventKey: 'mix-b', status: 'claimed' });
  });

  it('a claim whose owner failed is taken over, and stays resumed for the new owner after a retried start', async () => {
    const journal = createJournal(env.JOURNAL);
    for (const key of ['take-a', 'take-b']) await journal.record(event(key));
    await journal.claimActions(['org:take'], 'take-a');
    await journal.beginRun('take-a', () => ['org:take']);
    // Before the owner failed, the other event is settled by it (no run).
    expect([
      ...(await journal.settleClaimedElsewhere([
        { eventKey: 'take-b', claims: [{ automation: 'org', actionKey: 'org:take' }] },
      ])),
    ]).toEqual(['take-b']);
    await journal.finishRun('take-a', {
      actions: [],
      failure: { code: 'timeout', message: 'x' },
      result: {},
    });
    await journal.record(event('take-c'));
    // A failed owner settles no one: the new event must run to take over.
    expect(
      (
        await journal.settleClaimedElsewhere([
          { eventKey: 'take-c', claims: [{ automation: 'org', actionKey: 'org:take' }] },
        ])
      ).size,
    ).toBe(0);
    expect((await journal.claimActions(['org:take'], 'take-c')).get('org:take')).toEqual({
      act: true,
      resumed: true,
    });
    // take-c has not run yet, but the failed run may have created the organization: still resumed.
    expect((await journal.claimActions(['org:take'], 'take-c')).get('org:take')).toEqual({
      act: true,
      resumed: true,
    });
    await journal.finishRun('take-c', {
      actions: [{ actionKey: 'org:take', detail: { id: 'o1' } }],
      result: {},
    });
    expect(await journal.getAction('org:take')).toMatchObject({ eventKey: 'take-c', status: 'done' });
    expect((await journal.claimActions(['org:take'], 'take-a')).get('org:take')).toEqual({
      act: false,
      by: 'take-c',
      status: 'done',
    });
  });

  it('a run releases its own unfinished claims on actions it no longer plans (configuration changed)', async () => {
    const journal = createJournal(env.JOURNAL);
    await journal.record(event('rel-a'));
    await journal.settleClaimedElsewhere([
      {
        eventKey: 'rel-a',
        claims: [
          { automation: 'old', actionKey: 'old:rel' },
          { automation: 'kept', actionKey: 'kept:rel' },
        ],
      },
    ]);
    await journal.claimActions(['kept:rel'], 'rel-a');
    expect(await journal.getAction('old:rel')).toBeUndefined();
    expect(await journal.getAction('kept:rel')).toMatchObject({ eventKey: 'rel-a', status: 'claimed' });
  });
});
