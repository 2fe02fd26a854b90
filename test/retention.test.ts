import { env } from 'cloudflare:workers';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_EMULATOR_APP } from '../emulator';
import { signLogtoBody } from '../emulator/webhooks';
import { parseRetentionConfig } from '../src/config';
import { RETENTION_CRON, runRetention } from '../src/handlers/retention';
import { createJournal, type EventStatus, isReplayable, REDACTED_BODY } from '../src/journal';
import { TO_DELETE, TO_REDACT } from '../src/journal/retention';
import { claimActions, createEnqueue } from '../src/pipeline';
import { emulatorToken } from './helpers';
import { callWorker, HOOK_URL, runCron, SIGNING_KEY, setupPipeline } from './pipeline';
import { testRuntime } from './worker-entry';

const DAY = 86_400_000;
const NOW = Date.UTC(2031, 0, 1);
const DEFAULTS = { redactAfterDays: 30, deleteAfterDays: 90 };
const EMAIL = 'alice@example.com';
const BODY = JSON.stringify({ event: 'PostRegister', user: { id: 'u-alice', primaryEmail: EMAIL } });

/** The journal as the tests write it, at a time they set. */
let at = NOW;
const journal = createJournal(env.JOURNAL, () => at);

const TABLES = [
  'events',
  'actions',
  'coverage',
  'run_calls',
  'held_items',
  'held_batches',
  'links',
  'watermarks',
];
beforeEach(async () => {
  at = NOW;
  await env.JOURNAL.batch(TABLES.map((table) => env.JOURNAL.prepare(`DELETE FROM ${table}`)));
});
afterEach(() => {
  testRuntime.now = undefined;
});

/** Journals an event that reached `status` at `endedAt`, with personal data in its body, result and message. */
async function seed(key: string, status: EventStatus, endedAt: number, source = 'logto') {
  at = endedAt;
  const recorded = status === 'ignored' || status === 'self' ? status : 'received';
  await journal.events.record({
    eventKey: key,
    source,
    eventType: 'PostRegister',
    subject: 'u-alice',
    status: recorded,
    rawBody: BODY,
    reason: recorded === 'received' ? undefined : { code: 'no_automation', message: `nothing for ${EMAIL}` },
  });
  if (status === 'running' || status === 'done' || status === 'failed')
    await journal.batch([journal.events.beginStatement(key)]);
  if (status === 'done' || status === 'failed' || status === 'covered') {
    const outcome = {
      status,
      result: { stamp: { email: EMAIL } },
      failure: status === 'failed' ? { code: 'timeout', message: `no answer for ${EMAIL}` } : undefined,
      coveredBy: status === 'covered' ? 'owner' : undefined,
    };
    await journal.batch([journal.events.finishStatement(key, outcome, ['received', 'running'])]);
  }
  at = NOW;
}

/** An action `eventKey` claimed (and completed, unless `claimed`) at `time`, with a detail naming the user. */
async function action(actionKey: string, eventKey: string, time: number, claimed = false) {
  at = time;
  await journal.batch([
    journal.actions.claimStatement(actionKey, eventKey),
    ...(claimed ? [] : [journal.actions.completeStatement(actionKey, eventKey, { email: EMAIL })]),
  ]);
  at = NOW;
}

const row = (key: string) => journal.events.get(key);
const count = async (sql: string) =>
  Number((await env.JOURNAL.prepare(sql).first<{ n: number }>())?.n ?? Number.NaN);

describe('retention settings (JOURNAL_REDACT_AFTER_DAYS, JOURNAL_DELETE_AFTER_DAYS)', () => {
  it('defaults to 30 and 90 days; 0 or "off" turns either off', () => {
    expect(parseRetentionConfig({})).toEqual({ ok: true, config: DEFAULTS });
    expect(parseRetentionConfig({ JOURNAL_REDACT_AFTER_DAYS: ' ', JOURNAL_DELETE_AFTER_DAYS: '' })).toEqual({
      ok: true,
      config: DEFAULTS,
    });
    expect(
      parseRetentionConfig({ JOURNAL_REDACT_AFTER_DAYS: 'off', JOURNAL_DELETE_AFTER_DAYS: '0' }),
    ).toEqual({ ok: true, config: { redactAfterDays: null, deleteAfterDays: null } });
    expect(
      parseRetentionConfig({ JOURNAL_REDACT_AFTER_DAYS: 'OFF', JOURNAL_DELETE_AFTER_DAYS: '31' }),
    ).toEqual({ ok: true, config: { redactAfterDays: null, deleteAfterDays: 31 } });
    expect(
      parseRetentionConfig({ JOURNAL_REDACT_AFTER_DAYS: '7', JOURNAL_DELETE_AFTER_DAYS: 'off' }),
    ).toEqual({ ok: true, config: { redactAfterDays: 7, deleteAfterDays: null } });
    expect(
      parseRetentionConfig({ JOURNAL_REDACT_AFTER_DAYS: '90', JOURNAL_DELETE_AFTER_DAYS: '90' }),
    ).toEqual({ ok: true, config: { redactAfterDays: 90, deleteAfterDays: 90 } });
  });

  it('rejects malformed and out-of-range values, and deletion before redaction, by name (never the value)', () => {
    const cases: [Record<string, string>, string][] = [
      [{ JOURNAL_REDACT_AFTER_DAYS: 'abc' }, 'JOURNAL_REDACT_AFTER_DAYS'],
      [{ JOURNAL_REDACT_AFTER_DAYS: '-1' }, 'JOURNAL_REDACT_AFTER_DAYS'],
      [{ JOURNAL_REDACT_AFTER_DAYS: '1.5' }, 'JOURNAL_REDACT_AFTER_DAYS'],
      [{ JOURNAL_REDACT_AFTER_DAYS: '30d' }, 'JOURNAL_REDACT_AFTER_DAYS'],
      [{ JOURNAL_REDACT_AFTER_DAYS: '99999' }, 'JOURNAL_REDACT_AFTER_DAYS'],
      [{ JOURNAL_DELETE_AFTER_DAYS: 'never' }, 'JOURNAL_DELETE_AFTER_DAYS'],
      // Shorter than Workflows keeps a finished run (its instance ID would be met again).
      [{ JOURNAL_REDACT_AFTER_DAYS: '7', JOURNAL_DELETE_AFTER_DAYS: '30' }, 'JOURNAL_DELETE_AFTER_DAYS'],
      [{ JOURNAL_REDACT_AFTER_DAYS: '60', JOURNAL_DELETE_AFTER_DAYS: '45' }, 'JOURNAL_DELETE_AFTER_DAYS'],
      [{ JOURNAL_REDACT_AFTER_DAYS: '40', JOURNAL_DELETE_AFTER_DAYS: '35' }, 'JOURNAL_DELETE_AFTER_DAYS'],
    ];
    for (const [vars, variable] of cases) {
      const parsed = parseRetentionConfig(vars);
      expect(parsed, JSON.stringify(vars)).toMatchObject({ ok: false, variable });
      if (parsed.ok) continue;
      for (const value of Object.values(vars)) expect(parsed.reason).not.toContain(value);
    }
    expect(
      parseRetentionConfig({ JOURNAL_REDACT_AFTER_DAYS: '60', JOURNAL_DELETE_AFTER_DAYS: '45' }),
    ).toEqual({
      ok: false,
      variable: 'JOURNAL_DELETE_AFTER_DAYS',
      reason: 'must not be less than JOURNAL_REDACT_AFTER_DAYS (a row is redacted before it is deleted)',
    });
  });

  it('a bad value through the cron prunes nothing and logs the variable; "off" prunes nothing either', async () => {
    await seed('old-done', 'done', NOW - 91 * DAY);
    testRuntime.now = () => NOW;
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      await runCron(RETENTION_CRON, {
        ...env,
        JOURNAL_REDACT_AFTER_DAYS: '60',
        JOURNAL_DELETE_AFTER_DAYS: '45',
      });
      // One structured line: the job and the variable, never the value.
      const line = errors.mock.calls
        .map(([text]) => JSON.parse(String(text)))
        .find((entry) => entry.job === 'retention');
      expect(line).toMatchObject({ level: 'error', msg: 'cron.failed', job: 'retention' });
      expect(line.message).toMatch(
        /^retention: configuration error: JOURNAL_DELETE_AFTER_DAYS must not be less/,
      );
    } finally {
      errors.mockRestore();
    }
    expect(await row('old-done')).toMatchObject({ rawBody: BODY, redactedAt: null });
    await runCron(RETENTION_CRON, {
      ...env,
      JOURNAL_REDACT_AFTER_DAYS: 'off',
      JOURNAL_DELETE_AFTER_DAYS: 'off',
    });
    expect(await row('old-done')).toMatchObject({ rawBody: BODY, redactedAt: null });
    // The minute cron does not run retention.
    await runCron('* * * * *');
    expect(await row('old-done')).toMatchObject({ rawBody: BODY });
  });
});

describe('retention of events', () => {
  const WELL: EventStatus[] = ['done', 'ignored', 'self', 'covered'];
  const KEPT: EventStatus[] = ['failed', 'received', 'running'];

  it('29 days: intact; 31: redacted; 91: deleted — for events that ended well; failed and unfinished ones kept', async () => {
    for (const age of [29, 31, 91]) {
      for (const status of [...WELL, ...KEPT]) await seed(`${status}-${age}`, status, NOW - age * DAY);
      await action(`act-${age}`, `done-${age}`, NOW - age * DAY);
      await journal.batch([journal.actions.coverStatement(`act-${age}`, `covered-${age}`)]);
      await journal.timeline.record({
        eventKey: `done-${age}`,
        run: 0,
        step: 'assign roles',
        attempt: 1,
        outcome: 'ok',
        code: null,
        httpStatus: 200,
        startedAt: NOW - age * DAY,
        durationMs: 5,
      });
    }
    // Through the cron, with the settings of wrangler.toml (empty: the defaults).
    testRuntime.now = () => NOW;
    await runCron(RETENTION_CRON);

    for (const status of WELL) {
      expect(await row(`${status}-29`), `${status}-29`).toMatchObject({ rawBody: BODY, redactedAt: null });
      const redacted = await row(`${status}-31`);
      expect(redacted, `${status}-31`).toMatchObject({
        status,
        subject: 'u-alice',
        rawBody: REDACTED_BODY,
        result: null,
        lastErrorMessage: null,
        redactedAt: NOW,
      });
      expect(JSON.stringify(redacted)).not.toContain(EMAIL);
      expect(await row(`${status}-91`), `${status}-91`).toBeUndefined();
    }
    // The reasons' codes stay (they are not personal): an ignored event still says why.
    expect(await row('ignored-31')).toMatchObject({ lastErrorCode: 'no_automation' });
    for (const status of KEPT)
      for (const age of [29, 31, 91])
        expect(await row(`${status}-${age}`), `${status}-${age}`).toMatchObject({
          status,
          rawBody: BODY,
          redactedAt: null,
        });
    expect(await row('failed-91')).toMatchObject({ lastErrorMessage: `no answer for ${EMAIL}` });

    // What hangs off a deleted or redacted event goes with it; the ledger stays, its detail redacted after 30 days.
    expect(await count(`SELECT COUNT(*) AS n FROM run_calls WHERE event_key = 'done-91'`)).toBe(0);
    expect(await count(`SELECT COUNT(*) AS n FROM run_calls WHERE event_key = 'done-31'`)).toBe(1);
    expect(
      await count(`SELECT COUNT(*) AS n FROM coverage WHERE event_key IN ('covered-31', 'covered-91')`),
    ).toBe(0);
    expect(await count(`SELECT COUNT(*) AS n FROM coverage WHERE event_key = 'covered-29'`)).toBe(1);
    expect(await journal.actions.get('act-91')).toMatchObject({
      eventKey: 'done-91',
      status: 'done',
      detail: null,
    });
    expect(await journal.actions.get('act-31')).toMatchObject({ status: 'done', detail: null });
    expect(await journal.actions.get('act-29')).toMatchObject({ status: 'done', detail: { email: EMAIL } });

    // A second pass changes nothing more.
    expect(await runRetention(journal, DEFAULTS, NOW)).toMatchObject({
      deleted: 0,
      redacted: 0,
      actionDetails: 0,
    });
  });

  it('counts from when the event ended, not when it arrived: a failed event replayed to done starts its 30 days', async () => {
    await seed('late', 'failed', NOW - 100 * DAY);
    at = NOW - 10 * DAY;
    await journal.events.reopen('late');
    await journal.batch([journal.events.beginStatement('late')]);
    await journal.batch([journal.events.finishStatement('late', { status: 'done' }, ['running'])]);
    expect(await runRetention(journal, DEFAULTS, NOW)).toMatchObject({ redacted: 0, deleted: 0 });
    expect(await row('late')).toMatchObject({ status: 'done', rawBody: BODY });
    await runRetention(journal, DEFAULTS, NOW + 21 * DAY);
    expect(await row('late')).toMatchObject({ rawBody: REDACTED_BODY });
  });

  it('GitHub events are redacted but not deleted: their row is the only replay guard (no signed timestamp)', async () => {
    await seed('github-91', 'done', NOW - 91 * DAY, 'github');
    await seed('stripe-91', 'done', NOW - 91 * DAY, 'stripe');
    await runRetention(journal, DEFAULTS, NOW);
    expect(await row('github-91')).toMatchObject({ rawBody: REDACTED_BODY });
    expect(await row('stripe-91')).toBeUndefined();
    // Its redelivery stays a duplicate.
    expect(
      await journal.events.record({
        eventKey: 'github-91',
        source: 'github',
        eventType: 'organization.member_added',
        status: 'received',
        rawBody: BODY,
      }),
    ).toEqual({ inserted: false });
  });

  it('keeps an event whose actions are still open: it holds an unfinished claim, or left one to an owner that failed', async () => {
    // Done, but still holding an unfinished claim: deleting it would let any event take the claim over.
    await seed('holder', 'done', NOW - 91 * DAY);
    await action('held-action', 'holder', NOW - 91 * DAY, true);
    // Covered by an owner that failed and still holds the action: the journal cron re-opens it, which needs its body.
    await seed('failed-owner', 'failed', NOW - 91 * DAY);
    await action('open-action', 'failed-owner', NOW - 91 * DAY, true);
    await seed('waiting', 'covered', NOW - 91 * DAY);
    await journal.batch([journal.actions.coverStatement('open-action', 'waiting')]);

    expect(await runRetention(journal, DEFAULTS, NOW)).toMatchObject({ deleted: 0, redacted: 0 });
    expect(await row('holder')).toMatchObject({ rawBody: BODY });
    expect(await row('waiting')).toMatchObject({ rawBody: BODY });
    expect(await journal.actions.coveredByFailed(10)).toEqual(['waiting']);

    // Once the covered event ran and did the action itself, both it and the holder may go.
    await journal.events.reopen('waiting', ['covered']);
    await journal.batch([
      journal.actions.uncoverStatement('waiting'),
      journal.events.beginStatement('waiting'),
    ]);
    expect(await journal.actions.takeOver('open-action', 'failed-owner', 'waiting')).toBe(true);
    at = NOW - 40 * DAY;
    await journal.batch([
      journal.actions.completeStatement('open-action', 'waiting', {}),
      journal.actions.completeStatement('held-action', 'holder', {}),
      journal.events.finishStatement('waiting', { status: 'done' }, ['running']),
    ]);
    expect(await runRetention(journal, DEFAULTS, NOW)).toMatchObject({ deleted: 1, redacted: 1 });
    expect(await row('holder')).toBeUndefined();
    expect(await row('waiting')).toMatchObject({ rawBody: REDACTED_BODY });
    expect(await row('failed-owner')).toMatchObject({ status: 'failed', rawBody: BODY });
  });

  it('the ledger outlives the event: an action done by a deleted event is never claimed again, nor taken over', async () => {
    await seed('doer', 'done', NOW - 91 * DAY);
    await action('signup-roles:u-alice', 'doer', NOW - 91 * DAY);
    await runRetention(journal, DEFAULTS, NOW);
    expect(await row('doer')).toBeUndefined();
    await seed('newcomer', 'received', NOW);
    const claims = await claimActions(journal, 'newcomer', ['signup-roles:u-alice']);
    expect(claims.get('signup-roles:u-alice')).toEqual({ act: false, by: 'doer', status: 'done' });
    expect(await journal.actions.takeOver('signup-roles:u-alice', 'doer', 'newcomer')).toBe(false);
    expect(await journal.actions.get('signup-roles:u-alice')).toMatchObject({
      eventKey: 'doer',
      status: 'done',
    });
  });

  it('a redacted event cannot be replayed (nothing to run on); the replay path skips it', async () => {
    await seed('old', 'done', NOW - 31 * DAY);
    await runRetention(journal, DEFAULTS, NOW);
    const entry = await row('old');
    expect(entry).toMatchObject({ status: 'done', rawBody: REDACTED_BODY });
    expect(entry && isReplayable(entry)).toBe(false);
    const enqueue = createEnqueue({ journal, wake: async () => {} });
    expect(await enqueue.reopen(['old'])).toEqual({ reopened: [], skipped: ['old'] });
    expect(await row('old')).toMatchObject({ status: 'done', replays: 0 });
  });

  it('is bounded: more rows than one invocation may change are finished by the next ones', async () => {
    for (let i = 0; i < 10; i++) await seed(`r${i}`, 'done', NOW - 31 * DAY - i);
    for (let i = 0; i < 7; i++) await seed(`d${i}`, 'ignored', NOW - 91 * DAY - i);
    const limits = { rowsPerStatement: 3, statementsPerKind: 2 };
    expect(await runRetention(journal, DEFAULTS, NOW, limits)).toMatchObject({
      deleted: 6,
      redacted: 6,
      more: true,
    });
    // Oldest first: d6…d1 deleted; d0, left for the next deletion, is redacted meanwhile, then r9…r5.
    for (let i = 1; i < 7; i++) expect(await row(`d${i}`)).toBeUndefined();
    expect(await row('d0')).toMatchObject({ rawBody: REDACTED_BODY });
    for (let i = 5; i < 10; i++) expect(await row(`r${i}`)).toMatchObject({ rawBody: REDACTED_BODY });
    for (let i = 0; i < 5; i++) expect(await row(`r${i}`)).toMatchObject({ rawBody: BODY });
    expect(await runRetention(journal, DEFAULTS, NOW, limits)).toMatchObject({
      deleted: 1,
      redacted: 5,
      more: false,
    });
    expect(await count(`SELECT COUNT(*) AS n FROM events WHERE redacted_at IS NULL`)).toBe(0);
    expect(await count(`SELECT COUNT(*) AS n FROM events`)).toBe(10);
  });

  it('with the shipped limits, one cron invocation changes at most 2,000 events of a kind; the next continues', async () => {
    const keys = Array.from({ length: 2_100 }, (_, i) => i);
    await env.JOURNAL.prepare(
      `INSERT INTO events (event_key, source, event_type, received_at, status, raw_body, finished_at, updated_at)
       SELECT 'bulk-' || value, 'logto', 'User.Updated', ?1, 'ignored', ?2, ?1, ?1 FROM json_each(?3)`,
    )
      .bind(NOW - 31 * DAY, BODY, JSON.stringify(keys))
      .run();
    testRuntime.now = () => NOW;
    const unredacted = `SELECT COUNT(*) AS n FROM events WHERE redacted_at IS NULL`;
    await runCron(RETENTION_CRON);
    expect(await count(unredacted)).toBe(100);
    await runCron(RETENTION_CRON);
    expect(await count(unredacted)).toBe(0);
  });

  it('finds its rows through the retention indexes, oldest first (no scan, no sort)', async () => {
    const details = `SELECT action_key FROM actions INDEXED BY actions_detail_to_redact
      WHERE status = 'done' AND detail IS NOT NULL AND done_at < ?1 ORDER BY done_at, action_key LIMIT ?2`;
    for (const [name, sql, index] of [
      ['redact', TO_REDACT, 'events_to_redact'],
      ['delete', TO_DELETE, 'events_to_delete'],
      ['details', details, 'actions_detail_to_redact'],
    ]) {
      const { results } = await env.JOURNAL.prepare(`EXPLAIN QUERY PLAN ${sql}`)
        .bind(NOW, 500)
        .all<{ detail: string }>();
      const plan = results.map((step) => step.detail).join('\n');
      expect(plan, name).toContain(`USING INDEX ${index}`);
      expect(plan, name).not.toMatch(/\bSCAN\b|TEMP B-TREE/);
    }
  });
});

describe('retention of held batches (brakes)', () => {
  /** A scan batch with one candidate carrying a whole Logto user, moved to `status` at `time`. */
  async function batch(batchId: string, status: 'released' | 'discarded' | 'held', time: number) {
    at = time;
    const { batches } = journal;
    await batches.open(batchId, 'reconcile', 'collecting');
    const newEvent = {
      eventKey: `${batchId}-event`,
      source: 'reconcile',
      eventType: 'User.Reconcile',
      subject: 'u-alice',
      status: 'received' as const,
      rawBody: BODY,
    };
    await batches.add(batchId, [
      {
        eventKey: newEvent.eventKey,
        subject: 'u-alice',
        eventType: newEvent.eventType,
        preview: { user: { id: 'u-alice', primaryEmail: EMAIL }, automations: ['signup-roles'] },
        newEvent,
      },
    ]);
    if (status === 'released') {
      await batches.transition(batchId, ['collecting'], 'approved');
      await batches.markReleased(batchId, [newEvent.eventKey]);
      await batches.transition(batchId, ['approved'], 'released');
    } else {
      await batches.transition(batchId, ['collecting'], 'held');
      if (status === 'discarded') await batches.transition(batchId, ['held'], 'discarded', { by: 'ops-app' });
    }
    at = NOW;
  }

  it('redacts released and discarded items after 30 days, deletes released batches after 90, keeps the rest', async () => {
    await batch('released-91', 'released', NOW - 91 * DAY);
    await batch('released-31', 'released', NOW - 31 * DAY);
    await batch('released-29', 'released', NOW - 29 * DAY);
    await batch('discarded-91', 'discarded', NOW - 91 * DAY);
    await batch('held-91', 'held', NOW - 91 * DAY);
    expect(await runRetention(journal, DEFAULTS, NOW)).toMatchObject({
      heldItemsDeleted: 1,
      heldBatchesDeleted: 1,
      heldItemsRedacted: 2,
    });
    const items = async (batchId: string) => journal.batches.items(batchId, { limit: 10 });
    expect(await journal.batches.get('released-91')).toBeUndefined();
    expect(await items('released-91')).toEqual([]);
    for (const batchId of ['released-31', 'discarded-91']) {
      expect(await journal.batches.get(batchId)).toBeDefined();
      const [item] = await items(batchId);
      expect(item, batchId).toMatchObject({
        subject: 'u-alice',
        newEvent: null,
        preview: { user: { id: 'u-alice' }, automations: ['signup-roles'], redacted: true },
      });
      expect(JSON.stringify(item)).not.toContain(EMAIL);
    }
    // A discarded batch still keeps its subjects from being proposed again.
    expect(await journal.batches.unreleasedSubjects('reconcile', ['u-alice'], 'next')).toEqual(
      new Set(['u-alice']),
    );
    // Not old enough, or still awaiting an operator: untouched.
    for (const batchId of ['released-29', 'held-91'])
      expect((await items(batchId))[0]?.newEvent, batchId).toMatchObject({ rawBody: BODY });
  });
});

describe('retention end to end: a sign-up, 31 and 91 days later', () => {
  const ADMIN_RESOURCE = 'https://admin.retention.test';
  const OPS = { id: 'ops-app', secret: 'ops-secret', hasAllScope: false };
  const adminEnv = { ...env, ADMIN_API_RESOURCE: ADMIN_RESOURCE, ADMIN_APP_IDS: OPS.id };

  it('redacted events answer replay with 409; deleted ones stay acted on: a redelivery makes no second call', async () => {
    const pipeline = await setupPipeline({
      apps: [DEFAULT_EMULATOR_APP, OPS],
      apiResources: [ADMIN_RESOURCE],
    });
    const { emulator } = pipeline;
    const user = await emulator.signUp({ username: 'alice' });
    expect(await pipeline.drain()).toEqual({ done: 1, covered: 1 });
    const { entries } = await pipeline.journal.events.list({ limit: 10 });
    const done = entries.find((entry) => entry.status === 'done');
    const covered = entries.find((entry) => entry.status === 'covered');
    if (!done || !covered) throw new Error('expected one done and one covered event');
    expect(emulator.faults.count('POST /api/users/:userId/roles')).toBe(1);

    // 31 days later: both redacted. The admin API shows the marker, and refuses to replay.
    testRuntime.now = () => Date.now() + 31 * DAY;
    await runCron(RETENTION_CRON);
    testRuntime.now = undefined;
    const admin = async (path: string, method = 'GET') =>
      callWorker(
        `http://worker.test/admin${path}`,
        {
          method,
          headers: { authorization: `Bearer ${await emulatorToken(emulator, OPS, ADMIN_RESOURCE)}` },
        },
        adminEnv,
      );
    const shown = await admin(`/events/${done.eventKey}`);
    expect(shown.status).toBe(200);
    expect(await shown.json()).toMatchObject({ status: 'done', payload: { redacted: true } });
    const replay = await admin(`/events/${done.eventKey}/replay`, 'POST');
    expect(replay.status).toBe(409);
    expect(await replay.json()).toMatchObject({ error: 'not_replayable' });

    // A delivery as old as the events is refused outright (WEBHOOK_MAX_AGE_SECONDS).
    const deliver = async (body: string) =>
      callWorker(HOOK_URL, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'logto-signature-sha-256': await signLogtoBody(body, SIGNING_KEY),
        },
        body,
      });
    testRuntime.now = () => Date.now() + 91 * DAY;
    expect((await deliver(covered.rawBody)).status).toBe(401);

    // 91 days later: both rows deleted; the ledger keeps the sign-up roles done.
    await runCron(RETENTION_CRON);
    testRuntime.now = undefined;
    expect(await pipeline.journal.events.counts()).toEqual({});
    expect(await pipeline.journal.actions.get(`signup-roles:${user.id}`)).toMatchObject({
      eventKey: done.eventKey,
      status: 'done',
    });

    // Were the same event journaled again (it cannot be, above), it would be covered by the deleted event: no call.
    const again = await deliver(covered.rawBody);
    expect(await again.json()).toMatchObject({ status: 'accepted', eventKey: covered.eventKey });
    expect(await pipeline.drain()).toEqual({ covered: 1 });
    expect(await pipeline.journal.events.get(covered.eventKey)).toMatchObject({ coveredBy: done.eventKey });
    expect(emulator.faults.count('POST /api/users/:userId/roles')).toBe(1);
  });
});
