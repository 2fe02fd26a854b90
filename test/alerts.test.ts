import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { label } from '../src/alerts';
import { parseAlertConfig } from '../src/config';
import { createWorker } from '../src/handlers';
import { createJournal } from '../src/journal';
import { verifyStandardWebhook } from '../src/webhook-signature';
import { captureLogs } from './helpers';
import { callWorker, runCron, SIGNUP_ROLES, setupPipeline } from './pipeline';
import worker, { testRuntime } from './worker-entry';

/**
 * Alerts (src/alerts) end to end: the minute cron of the Worker under test evaluates the journal and POSTs notices
 * to a recorder standing in for the receiver (the Worker's outbound fetch routed by URL), while everything else
 * still reaches the Logto emulator.
 */

const MINUTE = 60_000;
const ALERT_URL = 'https://alerts.example.test/hooks/T000/B000/secret-path';
const WORKER_URL = 'https://automations.example.test';
const EMAIL = 'alice.alert@private-mail.test';
/** 32 bytes, base64. */
const SECRET = `whsec_${btoa(String.fromCharCode(...Array.from({ length: 32 }, (_, i) => (i * 37 + 11) % 256)))}`;
const MINUTE_CRON = '* * * * *';
const RECOVERY_CRON = '*/5 * * * *';

const alertEnv: Env = { ...env, ALERT_WEBHOOK_URL: ALERT_URL, WORKER_URL };
const signedEnv = { ...alertEnv, ALERT_WEBHOOK_SECRET: SECRET } as Env;

interface Received {
  body: string;
  headers: Headers;
  /** What the recorder answered (its status; 0 when it never answered). */
  status: number;
}
/** Every request that reached the receiver, and how it answers the n-th (1-based). */
let received: Received[] = [];
let answer: (n: number) => Promise<Response> | Response = () => new Response('ok');
/** Every body any test's receiver saw: none may carry an email, a payload or a secret. */
const everyBody: string[] = [];

/** The test's own journal, at a time it sets (undefined: the real clock). */
let at: number | undefined;
const journal = createJournal(env.JOURNAL, () => at ?? Date.now());

let pipeline: Awaited<ReturnType<typeof setupPipeline>>;
beforeAll(async () => {
  pipeline = await setupPipeline();
  const emulatorFetch = pipeline.emulator.fetch;
  testRuntime.fetch = async (input, init) => {
    // Routed by URL without reading the request: a Request built from another takes its body.
    const url = input instanceof Request ? input.url : String(input);
    if (!url.startsWith('https://alerts.example.test/')) return emulatorFetch(input, init);
    const request = new Request(input, init);
    const entry: Received = { body: await request.text(), headers: request.headers, status: 0 };
    received.push(entry);
    everyBody.push(entry.body);
    const response = await answer(received.length);
    entry.status = response.status;
    return response;
  };
});

const TABLES = [
  'events',
  'actions',
  'coverage',
  'run_calls',
  'held_items',
  'held_batches',
  'sweep_state',
  'alerts',
];
beforeEach(async () => {
  await pipeline.drain();
  await env.JOURNAL.batch(TABLES.map((table) => env.JOURNAL.prepare(`DELETE FROM ${table}`)));
  received = [];
  answer = () => new Response('ok');
  at = undefined;
});
/** Undo what a test broke in the emulator, even when it failed half-way. */
const restorers: (() => void)[] = [];
afterEach(() => {
  for (const restore of restorers.splice(0)) restore();
  testRuntime.now = undefined;
  vi.restoreAllMocks();
});

/** The minute cron at a clock the test sets (undefined: the real clock). */
async function minuteCron(workerEnv: Env = alertEnv, time?: number) {
  testRuntime.now = time === undefined ? undefined : () => time;
  try {
    await runCron(MINUTE_CRON, workerEnv);
  } finally {
    testRuntime.now = undefined;
  }
}

const texts = () => received.map((entry) => (JSON.parse(entry.body) as { text: string }).text);

/** Journals an event that ended `failed` with `code` (its body and message carry an email). */
async function seedFailed(key: string, eventType: string, code: string, time?: number) {
  at = time;
  await journal.events.record({
    eventKey: key,
    source: 'logto',
    eventType,
    subject: `user-${key}`,
    status: 'received',
    rawBody: JSON.stringify({ event: eventType, user: { id: `user-${key}`, primaryEmail: EMAIL } }),
  });
  await journal.batch([journal.events.beginStatement(key)]);
  await journal.batch([
    journal.events.finishStatement(
      key,
      { status: 'failed', failure: { code, message: `could not act for ${EMAIL}` } },
      ['running'],
    ),
  ]);
  at = undefined;
}

/** What an operator's replay ends with: the event re-opened, run and done. */
async function replayToDone(key: string) {
  await journal.events.reopen(key);
  await journal.batch([journal.events.beginStatement(key)]);
  await journal.batch([journal.events.finishStatement(key, { status: 'done' }, ['running'])]);
}

describe('alert settings (ALERT_WEBHOOK_URL, ALERT_WEBHOOK_SECRET, ALERT_BACKLOG_THRESHOLD)', () => {
  it('off without a URL; https, or http to this machine; the secret and the threshold checked; errors name the variable, never the value', () => {
    expect(parseAlertConfig({})).toEqual({ ok: true, config: null });
    expect(parseAlertConfig({ ALERT_WEBHOOK_URL: ' ', ALERT_WEBHOOK_SECRET: SECRET })).toEqual({
      ok: true,
      config: null,
    });
    expect(parseAlertConfig({ ALERT_WEBHOOK_URL: ALERT_URL })).toEqual({
      ok: true,
      config: { url: ALERT_URL, backlogThreshold: 100 },
    });
    for (const url of [
      'http://localhost:8787/alerts',
      'http://127.0.0.1/x',
      'https://hooks.slack.com/services/a/b/c',
    ])
      expect(parseAlertConfig({ ALERT_WEBHOOK_URL: url }), url).toMatchObject({ ok: true, config: { url } });
    expect(
      parseAlertConfig({
        ALERT_WEBHOOK_URL: ALERT_URL,
        ALERT_WEBHOOK_SECRET: SECRET,
        ALERT_BACKLOG_THRESHOLD: 'off',
      }),
    ).toEqual({ ok: true, config: { url: ALERT_URL, secret: SECRET, backlogThreshold: null } });
    expect(parseAlertConfig({ ALERT_WEBHOOK_URL: ALERT_URL, ALERT_BACKLOG_THRESHOLD: '250' })).toMatchObject({
      config: { backlogThreshold: 250 },
    });

    const cases: [Record<string, string>, string][] = [
      [{ ALERT_WEBHOOK_URL: 'http://alerts.example.com/hook' }, 'ALERT_WEBHOOK_URL'],
      [{ ALERT_WEBHOOK_URL: 'alerts.example.com/hook' }, 'ALERT_WEBHOOK_URL'],
      [{ ALERT_WEBHOOK_URL: 'ftp://alerts.example.com/hook' }, 'ALERT_WEBHOOK_URL'],
      [{ ALERT_WEBHOOK_URL: 'https://ops:hunter2@alerts.example.com/hook' }, 'ALERT_WEBHOOK_URL'],
      [{ ALERT_WEBHOOK_URL: ALERT_URL, ALERT_WEBHOOK_SECRET: 'plain-secret-value' }, 'ALERT_WEBHOOK_SECRET'],
      [{ ALERT_WEBHOOK_URL: ALERT_URL, ALERT_WEBHOOK_SECRET: 'whsec_c2hvcnQ=' }, 'ALERT_WEBHOOK_SECRET'],
      [{ ALERT_WEBHOOK_URL: ALERT_URL, ALERT_WEBHOOK_SECRET: 'whsec_not base64!' }, 'ALERT_WEBHOOK_SECRET'],
      [{ ALERT_WEBHOOK_URL: ALERT_URL, ALERT_BACKLOG_THRESHOLD: 'lots' }, 'ALERT_BACKLOG_THRESHOLD'],
      [{ ALERT_WEBHOOK_URL: ALERT_URL, ALERT_BACKLOG_THRESHOLD: '0' }, 'ALERT_BACKLOG_THRESHOLD'],
      [{ ALERT_WEBHOOK_URL: ALERT_URL, ALERT_BACKLOG_THRESHOLD: '-5' }, 'ALERT_BACKLOG_THRESHOLD'],
    ];
    for (const [vars, variable] of cases) {
      const parsed = parseAlertConfig(vars);
      expect(parsed, JSON.stringify(vars)).toMatchObject({ ok: false, variable });
      if (parsed.ok) continue;
      for (const value of Object.values(vars))
        if (value.length > 3) expect(parsed.reason).not.toContain(value);
    }
  });

  it('a bad value through the cron sends nothing and logs the variable (not its value); webhooks are still received', async () => {
    const bad = { ...alertEnv, ALERT_WEBHOOK_URL: 'http://alerts.example.test/hook-with-token' };
    await seedFailed('f1', 'PostRegister', 'role_not_found');
    const logs = captureLogs();
    // A sign-up delivered to the Worker with the bad setting: recorded and run as ever.
    pipeline.emulator.webhooks.setDeliver((input, init) => callWorker(input, init, bad));
    try {
      const user = await pipeline.emulator.signUp({ username: 'still-works' });
      await pipeline.drain();
      expect(pipeline.rolesOf(user.id)).toEqual([...SIGNUP_ROLES].sort());
      await minuteCron(bad);
      await minuteCron({ ...alertEnv, ALERT_BACKLOG_THRESHOLD: 'many' });
    } finally {
      pipeline.emulator.webhooks.setDeliver((input, init) => callWorker(input, init));
    }
    expect(received).toEqual([]);
    const disabled = logs.lines.filter((line) => line.msg === 'alert.disabled');
    expect(disabled.map((line) => line.variable)).toEqual(['ALERT_WEBHOOK_URL', 'ALERT_BACKLOG_THRESHOLD']);
    expect(disabled[0]).toMatchObject({ level: 'error' });
    expect(logs.raw.join('\n')).not.toContain('hook-with-token');
    expect(logs.raw.join('\n')).not.toContain('many');
    expect(await env.JOURNAL.prepare('SELECT COUNT(*) AS n FROM alerts').first('n')).toBe(0);
  });
});

describe('alerts', () => {
  it('a failure group alerts once across several minute crons (Slack JSON), and is resolved once its failures are replayed to done', async () => {
    const { emulator } = pipeline;
    const logs = captureLogs();
    // Sign-ups fail for good: a role the sign-up automation assigns is missing.
    const beta = [...emulator.store.roles.values()].find((role) => role.name === SIGNUP_ROLES[1]);
    if (!beta) throw new Error('role missing');
    emulator.store.roles.delete(beta.id);
    restorers.push(() => emulator.store.roles.set(beta.id, beta));
    const users = [
      await emulator.signUp({ username: 'alert_one', primaryEmail: EMAIL }),
      await emulator.signUp({ username: 'alert_two', primaryEmail: `two.${EMAIL}` }),
    ];
    await pipeline.drain();
    // The journal cron re-opens the events the failed ones covered; they fail too. Let that settle first.
    for (let i = 0; i < 2; i++) {
      await runCron(MINUTE_CRON);
      await pipeline.drain();
    }
    expect((await pipeline.journal.events.counts()).covered).toBeUndefined();
    const groups = await pipeline.journal.insights.failureCauses(10);
    expect(groups.length).toBeGreaterThan(0);
    // role_not_found, or entity.not_exists_with_id when the isolate had the role's ID cached.
    expect(groups.every((group) => /^(role_not_found|entity\.not_exists_with_id)$/.test(group.code))).toBe(
      true,
    );

    for (let i = 0; i < 4; i++) await minuteCron();
    // One notice per group, however many crons saw it.
    expect(received).toHaveLength(groups.length);
    for (const entry of received) {
      expect(entry.headers.get('content-type')).toBe('application/json');
      expect(entry.headers.get('webhook-signature')).toBeNull();
      expect(Object.keys(JSON.parse(entry.body))).toEqual(['text']);
    }
    const opened = texts().join('\n');
    for (const group of groups) {
      expect(opened).toContain(
        `${group.count} event${group.count === 1 ? '' : 's'} failed for good: ${group.eventType}, code ${group.code}`,
      );
      expect(opened).toContain(`e.g. event ${group.exampleKey}`);
    }
    expect(opened).toContain(`${WORKER_URL}/console/failures`);
    expect(received.map((entry) => entry.status)).toEqual(groups.map(() => 200));
    expect(logs.lines.filter((line) => line.msg === 'alert.sent')).toHaveLength(groups.length);

    // Fixed and replayed: the failed events run again and end done; the next cron says so, once.
    emulator.store.roles.set(beta.id, beta);
    const failed = (await pipeline.journal.events.list({ status: 'failed' })).entries.map((e) => e.eventKey);
    await pipeline.enqueue.reopen(failed);
    await pipeline.drain();
    for (const user of users) expect(pipeline.rolesOf(user.id)).toEqual([...SIGNUP_ROLES].sort());
    const before = received.length;
    for (let i = 0; i < 3; i++) await minuteCron();
    const resolved = texts().slice(before);
    expect(resolved).toHaveLength(groups.length);
    for (const text of resolved)
      expect(text).toMatch(
        /^logto-automations resolved: No failed \S+ events with code \S+ remain \(replayed or fixed\)\. https:/,
      );
    const rows = await env.JOURNAL.prepare(`SELECT * FROM alerts WHERE kind = 'failure'`).all();
    expect(rows.results.map((row) => row.state)).toEqual(groups.map(() => 'resolved'));
    // One attempt per notice: the opening, the resolution.
    expect(rows.results.map((row) => row.attempts)).toEqual(groups.map(() => 2));
  });

  it('a held batch alerts once (signed with Standard Webhooks, verified by the project’s verifier) and is resolved when approved or discarded', async () => {
    at = Date.now() - 10 * MINUTE;
    await journal.batches.open('reconcile:1700000000000', 'reconcile', 'held', '312 users > limit 50');
    await journal.batches.open('replay:1700000000001', 'replay', 'held', '80 users > limit 50');
    await journal.batches.add('replay:1700000000001', [
      {
        eventKey: 'k1',
        subject: 'u1',
        eventType: 'PostRegister',
        preview: { user: { id: 'u1', primaryEmail: EMAIL } },
        newEvent: null,
      },
    ]);
    at = undefined;
    await minuteCron(signedEnv);
    await minuteCron(signedEnv);
    expect(received).toHaveLength(2);
    for (const entry of received) {
      const headers = {
        id: entry.headers.get('webhook-id'),
        timestamp: entry.headers.get('webhook-timestamp'),
        signature: entry.headers.get('webhook-signature'),
      };
      const bytes = new TextEncoder().encode(entry.body);
      expect(await verifyStandardWebhook(bytes, headers, [SECRET], Date.now())).toEqual({
        ok: true,
        keyIndex: 0,
      });
      // Another secret, or one changed byte of the body, does not verify.
      const other = `whsec_${btoa('another secret of at least 24 bytes')}`;
      expect(await verifyStandardWebhook(bytes, headers, [other], Date.now())).toMatchObject({ ok: false });
      const tampered = new TextEncoder().encode(entry.body.replace('"batch"', '"batcH"'));
      expect(await verifyStandardWebhook(tampered, headers, [SECRET], Date.now())).toMatchObject({
        ok: false,
      });
    }
    const bodies = received.map(
      (entry) => JSON.parse(entry.body) as { type: string; timestamp: string; data: Record<string, unknown> },
    );
    expect(bodies.map((body) => body.type)).toEqual(['alert.opened', 'alert.opened']);
    expect(bodies.map((body) => body.data.batchId).sort()).toEqual([
      'reconcile:1700000000000',
      'replay:1700000000001',
    ]);
    const replayNotice = bodies.find((body) => body.data.batchId === 'replay:1700000000001');
    expect(replayNotice?.data).toMatchObject({
      kind: 'batch',
      batchKind: 'replay',
      items: 1,
      link: `${WORKER_URL}/console/batches/${encodeURIComponent('replay:1700000000001')}`,
    });
    expect(String(replayNotice?.data.text)).toMatch(/^logto-automations alert: A held replay batch waits/);

    // Discarded: its resolved notice (same incident); approved (the journal sweep releases it): its own.
    await journal.batches.transition('replay:1700000000001', ['held'], 'discarded', { by: 'ops-app' });
    await minuteCron(signedEnv);
    await journal.batches.transition('reconcile:1700000000000', ['held'], 'approved', { by: 'ops-app' });
    await minuteCron(signedEnv);
    await minuteCron(signedEnv);
    expect(received).toHaveLength(4);
    const later = received.slice(2).map((entry) => JSON.parse(entry.body) as typeof replayNotice);
    expect(later.map((body) => [body?.type, body?.data.batchId])).toEqual([
      ['alert.resolved', 'replay:1700000000001'],
      ['alert.resolved', 'reconcile:1700000000000'],
    ]);
    expect(later[0]?.data.incident).toBe(replayNotice?.data.incident);
    // Each notice has its own webhook-id.
    expect(new Set(received.map((entry) => entry.headers.get('webhook-id'))).size).toBe(4);
    expect((await journal.batches.get('reconcile:1700000000000'))?.status).toBe('released');
  });

  it('a backlog above ALERT_BACKLOG_THRESHOLD (events waiting over 5 minutes) alerts, and is resolved when below', async () => {
    const NOW = Date.now();
    const backlogEnv = { ...alertEnv, ALERT_BACKLOG_THRESHOLD: '3' };
    /** A `running` event received `ago` before NOW, its run alive (started a second later). */
    const running = async (key: string, ago: number) => {
      at = NOW - ago;
      await journal.events.record({
        eventKey: key,
        source: 'logto',
        eventType: 'PostRegister',
        subject: null,
        status: 'received',
        rawBody: '{}',
      });
      at = NOW - ago + 1_000;
      await journal.batch([journal.events.beginStatement(key)]);
      at = undefined;
    };
    for (let i = 0; i < 3; i++) await running(`old-${i}`, 10 * MINUTE);
    for (let i = 0; i < 5; i++) await running(`new-${i}`, 0);
    // Three waiting over five minutes: not above the threshold; the five newer ones do not count.
    await minuteCron(backlogEnv, NOW);
    expect(received).toEqual([]);
    await running('old-3', 6 * MINUTE);
    await minuteCron(backlogEnv, NOW + MINUTE);
    await minuteCron(backlogEnv, NOW + 2 * MINUTE);
    expect(texts()).toEqual([
      expect.stringMatching(
        /^logto-automations alert: 4 events received or running for more than 5 minutes \(threshold 3; oldest since .*\)\. https:\/\/automations\.example\.test\/console\/health$/,
      ),
    ]);
    at = NOW + 2 * MINUTE;
    for (const key of ['old-0', 'old-1'])
      await journal.batch([journal.events.finishStatement(key, { status: 'done' }, ['running'])]);
    at = undefined;
    await minuteCron(backlogEnv, NOW + 3 * MINUTE);
    await minuteCron(backlogEnv, NOW + 4 * MINUTE);
    expect(texts()).toHaveLength(2);
    expect(texts()[1]).toMatch(/^logto-automations resolved: The backlog is back under 3 events/);
    // Off: no backlog alert whatever the backlog.
    for (let i = 0; i < 5; i++) await running(`more-${i}`, 20 * MINUTE);
    await minuteCron({ ...alertEnv, ALERT_BACKLOG_THRESHOLD: 'off' }, NOW + 5 * MINUTE);
    expect(texts()).toHaveLength(2);
    // These runs are made up: nothing else may wait for them.
    await env.JOURNAL.prepare('DELETE FROM events').run();
  });

  it('deliveries Logto could not make, found by the recovery, alert; a later recovery run that finds none resolves it', async () => {
    const { emulator } = pipeline;
    const hookId = emulator.webhooks.hooks[0]?.id ?? '';
    const recoveringEnv = { ...alertEnv, LOGTO_HOOK_IDS: hookId };
    // The Worker is unreachable for one sign-up (two events).
    emulator.webhooks.setDeliver(async () => new Response('unavailable', { status: 503 }));
    restorers.push(() => emulator.webhooks.setDeliver((input, init) => callWorker(input, init)));
    const user = await emulator.signUp({ username: 'undelivered', primaryEmail: EMAIL });
    await emulator.webhooks.settled();
    emulator.webhooks.setDeliver((input, init) => callWorker(input, init));
    expect(await pipeline.journal.events.counts()).toEqual({});

    await runCron(RECOVERY_CRON, recoveringEnv);
    await pipeline.drain();
    expect(pipeline.rolesOf(user.id)).toEqual([...SIGNUP_ROLES].sort());
    await minuteCron(recoveringEnv);
    await minuteCron(recoveringEnv);
    expect(texts()).toEqual([
      expect.stringMatching(
        new RegExp(
          `^logto-automations alert: Logto could not deliver 2 webhooks to the Worker \\(hook ${hookId}, .*\\); recovered from Logto's hook log\\.`,
        ),
      ),
    ]);
    // The next recovery run finds nothing new: resolved.
    await runCron(RECOVERY_CRON, recoveringEnv);
    await minuteCron(recoveringEnv);
    await minuteCron(recoveringEnv);
    expect(texts()).toHaveLength(2);
    expect(texts()[1]).toBe(
      `logto-automations resolved: The latest recovery run of hook ${hookId} found no undelivered webhooks. ${WORKER_URL}/console/health`,
    );
  });

  it('a receiver answering 500, or not at all, is retried on the next run; each notice is accepted once', async () => {
    const logs = captureLogs();
    await seedFailed('f1', 'PostRegister', 'role_not_found');
    await seedFailed('f2', 'User.Created', 'entity.not_found');
    const NOW = Date.now();
    // Down for two requests (500, then no answer within the timeout), then up.
    answer = (n) =>
      n === 1
        ? new Response('oops', { status: 500 })
        : n === 2
          ? new Promise<Response>(() => {})
          : new Response('ok');
    await minuteCron(alertEnv, NOW);
    // The first failure stops the run: the other notice waits rather than meeting the same receiver.
    expect(received).toHaveLength(1);
    const row = await env.JOURNAL.prepare(
      `SELECT attempts, last_error, open_sent_at, lease_until FROM alerts WHERE open_sent_at IS NULL AND attempts > 0`,
    ).first();
    expect(row).toEqual({ attempts: 1, last_error: 'http_500', open_sent_at: null, lease_until: null });
    const started = Date.now();
    await minuteCron(alertEnv, NOW + MINUTE);
    expect(Date.now() - started).toBeGreaterThanOrEqual(4_500);
    expect(received).toHaveLength(2);
    await minuteCron(alertEnv, NOW + 2 * MINUTE);
    await minuteCron(alertEnv, NOW + 3 * MINUTE);
    // Attempts: 500, timeout, then both notices accepted; nothing after.
    expect(received.map((entry) => entry.status)).toEqual([500, 0, 200, 200]);
    expect(new Set(received.slice(2).map((entry) => entry.body)).size).toBe(2);
    expect(received[0]?.body).toBe(received[1]?.body);
    expect(received.slice(2).map((entry) => entry.body)).toContain(received[0]?.body);
    expect(logs.lines.filter((line) => line.msg === 'alert.failed').map((line) => line.code)).toEqual([
      'http_500',
      'timeout',
    ]);
    expect(logs.lines.filter((line) => line.msg === 'alert.sent')).toHaveLength(2);
    expect(logs.raw.join('\n')).not.toContain('secret-path');
    const sent = await env.JOURNAL.prepare('SELECT attempts FROM alerts ORDER BY attempts').all();
    expect(sent.results.map((r) => r.attempts)).toEqual([1, 3]);
  }, 30_000);

  it('concurrent minute crons in several isolates, real timers: each cause is told exactly once, opened and resolved', async () => {
    // Three Workers built like the deployed one (each its own per-isolate state), three crons each, all at once.
    const deps = {
      fetch: ((input, init) => (testRuntime.fetch ?? fetch)(input, init)) as typeof fetch,
      now: () => Date.now(),
    };
    const isolates = [worker, createWorker(deps), createWorker(deps)];
    const cronEverywhere = () =>
      Promise.all(
        isolates.flatMap((isolate) =>
          [0, 1, 2].map(async () => {
            const ctx = createExecutionContext();
            await isolate.scheduled(createScheduledController({ cron: MINUTE_CRON }), signedEnv, ctx);
            await waitOnExecutionContext(ctx);
          }),
        ),
      );
    // A slow receiver widens every race.
    answer = async () => {
      await new Promise((resolve) => setTimeout(resolve, 40));
      return new Response('ok');
    };
    await seedFailed('c1', 'PostRegister', 'role_not_found');
    await seedFailed('c2', 'PostRegister', 'role_not_found');
    await seedFailed('c3', 'Organization.Created', 'entity.not_found');
    await journal.batches.open('cleanup:1700000000002', 'cleanup', 'held', '60 users > limit 50');

    await cronEverywhere();
    await cronEverywhere();
    const opened = received.map(
      (entry) => JSON.parse(entry.body) as { type: string; data: Record<string, unknown> },
    );
    expect(opened.map((body) => body.type)).toEqual(['alert.opened', 'alert.opened', 'alert.opened']);
    expect(opened.map((body) => body.data.kind).sort()).toEqual(['batch', 'failure', 'failure']);
    expect(opened.find((body) => body.data.code === 'role_not_found')?.data.count).toBe(2);
    expect(new Set(received.map((entry) => entry.headers.get('webhook-id'))).size).toBe(3);

    for (const key of ['c1', 'c2', 'c3']) await replayToDone(key);
    await journal.batches.transition('cleanup:1700000000002', ['held'], 'discarded', { by: 'ops-app' });
    await cronEverywhere();
    await cronEverywhere();
    const all = received.map(
      (entry) => JSON.parse(entry.body) as { type: string; data: Record<string, unknown> },
    );
    expect(all.slice(3).map((body) => body.type)).toEqual([
      'alert.resolved',
      'alert.resolved',
      'alert.resolved',
    ]);
    expect(new Set(all.map((body) => `${body.data.incident}:${body.type}`)).size).toBe(6);
    const rows = await env.JOURNAL.prepare('SELECT state, attempts FROM alerts').all();
    expect(rows.results).toEqual([
      { state: 'resolved', attempts: 2 },
      { state: 'resolved', attempts: 2 },
      { state: 'resolved', attempts: 2 },
    ]);
  }, 30_000);

  it('a cause that comes back after its resolution is a new incident (told again); labels keep made-up values out', async () => {
    const NOW = Date.now();
    await seedFailed('r1', 'PostRegister', 'role_not_found', NOW - MINUTE);
    await minuteCron(alertEnv, NOW);
    await replayToDone('r1');
    await minuteCron(alertEnv, NOW + MINUTE);
    await seedFailed('r2', 'PostRegister', 'role_not_found', NOW + MINUTE);
    await minuteCron(alertEnv, NOW + 2 * MINUTE);
    await minuteCron(alertEnv, NOW + 3 * MINUTE);
    expect(texts().map((text) => text.split(':')[0])).toEqual([
      'logto-automations alert',
      'logto-automations resolved',
      'logto-automations alert',
    ]);
    expect(texts()[2]).toContain('e.g. event r2');
    // A handler's code or a sender's type that is not an identifier never reaches a notice as such.
    expect(label(`failed for ${EMAIL}`)).toBe('(other)');
    expect(label('entity.not_found')).toBe('entity.not_found');
    await seedFailed('r3', 'custom.event', `no such user ${EMAIL}`);
    await minuteCron(alertEnv, NOW + 4 * MINUTE);
    expect(texts()[3]).toContain('custom.event, code (other)');
  });

  it('no notice of any test carried an email, a payload, an error message or a secret', () => {
    expect(everyBody.length).toBeGreaterThan(10);
    for (const body of everyBody) {
      expect(body).not.toContain('@');
      expect(body).not.toContain('private-mail');
      expect(body).not.toContain('primaryEmail');
      expect(body).not.toContain('could not act');
      expect(body).not.toContain('alert_one');
      expect(body).not.toContain(SECRET.slice(6));
      expect(body).not.toContain(env.LOGTO_WEBHOOK_SIGNING_KEY);
      expect(body).not.toContain('secret-path');
    }
  });
});
