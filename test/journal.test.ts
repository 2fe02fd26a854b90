import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { createJournal } from '../src/journal';
import { beginRun } from '../src/pipeline';
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
    expect(await journal.events.record(event)).toEqual({ inserted: true });
    await beginRun(journal, 'k-dup', () => []);
    expect(await journal.events.record({ ...event, rawBody: '{"other":1}' })).toEqual({ inserted: false });
    expect(await journal.events.get('k-dup')).toMatchObject({
      status: 'running',
      attempts: 1,
      rawBody: '{}',
    });
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
    const results = await Promise.all(Array.from({ length: 10 }, () => journal.events.record(event)));
    expect(results.filter((result) => result.inserted)).toHaveLength(1);
  });

  it('tracks status, attempts, errors (truncated) and finish time', async () => {
    const clock = createClock();
    const journal = createJournal(env.JOURNAL, clock.now);
    await journal.events.record({
      eventKey: 'k-fail',
      source: 'logto',
      eventType: 'PostRegister',
      status: 'received',
      rawBody: '{}',
    });
    await beginRun(journal, 'k-fail', () => []);
    await beginRun(journal, 'k-fail', () => []);
    clock.advance(5_000);
    await journal.batch([
      journal.events.finishStatement(
        'k-fail',
        { status: 'failed', failure: { code: 'entity.not_found', message: 'x'.repeat(2_000) } },
        ['running'],
      ),
    ]);
    const entry = await journal.events.get('k-fail');
    expect(entry).toMatchObject({
      status: 'failed',
      attempts: 2,
      lastErrorCode: 'entity.not_found',
      finishedAt: clock.now(),
    });
    expect(entry?.lastErrorMessage).toHaveLength(500);
    await journal.events.record({
      eventKey: 'k-ign',
      source: 'logto',
      eventType: 'Nope',
      status: 'ignored',
      rawBody: '{}',
    });
    expect((await journal.events.get('k-ign'))?.finishedAt).toBe(clock.now());
  });

  it('lists newest first with filters and a cursor over every page', async () => {
    const clock = createClock(Date.UTC(2030, 0, 1));
    const journal = createJournal(env.JOURNAL, clock.now);
    for (let i = 0; i < 7; i++) {
      clock.advance(1_000);
      await journal.events.record({
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
      const page = await journal.events.list({ since, limit: 3, cursor });
      seen.push(...page.entries.map((entry) => entry.eventKey));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['page-6', 'page-5', 'page-4', 'page-3', 'page-2', 'page-1', 'page-0']);
    const signIns = await journal.events.list({ since, eventType: 'PostSignIn' });
    expect(signIns.entries.map((entry) => entry.eventKey)).toEqual(['page-5', 'page-3', 'page-1']);
    // Oldest first; rows of earlier tests in this file (received in 2026) are unstarted too.
    const unstarted = (await journal.events.listOlder('received', 'received_at', since + 3_500, 100)).map(
      (entry) => entry.eventKey,
    );
    expect(unstarted.filter((key) => key.startsWith('page-'))).toEqual(['page-0', 'page-1', 'page-2']);
    expect(unstarted).not.toContain('page-3');
  });
  it('failure groups read any stored result: truncated, plain values or not JSON', async () => {
    const journal = createJournal(env.JOURNAL);
    const results: unknown[] = [
      { 'personal-organization': { failed: { code: 'grp.oops' } }, 'signup-roles': 'skipped', stamps: 3 },
      { bulky: 'y'.repeat(5_000) }, // stored as {"truncated": "…"}: a top-level string value
      ['a', 1, null],
      undefined,
    ];
    for (const [i, result] of results.entries()) {
      const eventKey = `k-grp-${i}`;
      await journal.events.record({
        eventKey,
        source: 'logto',
        eventType: 'GroupTest',
        status: 'received',
        rawBody: '{}',
      });
      await beginRun(journal, eventKey, () => []);
      await journal.batch([
        journal.events.finishStatement(
          eventKey,
          { status: 'failed', failure: { code: 'grp.oops', message: 'm' }, result },
          ['running'],
        ),
      ]);
    }
    const group = (await journal.insights.failureCauses(100)).find((g) => g.eventType === 'GroupTest');
    expect(group).toMatchObject({ code: 'grp.oops', count: 4, automations: ['personal-organization'] });
    const groups = await journal.insights.failureGroups();
    expect(groups.find((g) => g.eventType === 'GroupTest')).toMatchObject({ count: 4, exampleMessage: 'm' });
  });
});
