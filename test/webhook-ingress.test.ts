import { env } from 'cloudflare:workers';
import fc from 'fast-check';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { newUser } from '../emulator/management-users';
import { signLogtoBody } from '../emulator/webhooks';
import { eventKey, logtoEventKey } from '../src/events';
import { PROJECT_USER_AGENT } from '../src/logto-client';
import { MAX_BODY_BYTES } from '../src/pipeline/ingest';
import postRegister from './fixtures/logto-webhooks/post-register.json';
import userCreatedApi from './fixtures/logto-webhooks/user-created-management-api.json';
import userCreatedSignUp from './fixtures/logto-webhooks/user-created-sign-up.json';
import { callWorker, HOOK_URL, SIGNING_KEY, setupPipeline } from './pipeline';
import { testRuntime } from './worker-entry';

const NOW = Date.UTC(2026, 10, 25, 12, 0, 0);
const encoder = new TextEncoder();

const sign = (body: string | Uint8Array, key = SIGNING_KEY) => signLogtoBody(body, key);

let serial = 0;
/** A fresh sign-up event (unique user) as a real Logto would send it, `createdAt` relative to the test clock. */
function signUpBody(overrides: Record<string, unknown> = {}) {
  const id = `u${++serial}${Date.now().toString(36)}`;
  pipeline.emulator.store.users.set(id, newUser({ username: id }, NOW, id));
  return JSON.stringify({
    event: 'PostRegister',
    interactionEvent: 'Register',
    createdAt: new Date(NOW - 1_000).toISOString(),
    sessionId: 'session',
    userAgent: 'Mozilla/5.0',
    userId: id,
    userIp: '127.0.0.1',
    user: { id, username: id, primaryEmail: null, customData: {}, identities: {} },
    application: { id: 'app', type: 'SPA', name: 'app', description: null },
    ...overrides,
    hookId: 'hook-1',
  });
}

async function deliver(body: string | Uint8Array, signature?: string | null, workerEnv: Env = env) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const header = signature === undefined ? await sign(body) : signature;
  if (header !== null) headers['logto-signature-sha-256'] = header;
  return callWorker(HOOK_URL, { method: 'POST', headers, body }, workerEnv);
}

let pipeline: Awaited<ReturnType<typeof setupPipeline>>;
beforeAll(async () => {
  pipeline = await setupPipeline({ now: () => NOW });
  // The user of the real sign-up captures, so their run finds it.
  const captured = JSON.parse(postRegister.rawBody).userId as string;
  pipeline.emulator.store.users.set(captured, newUser({ username: 'peer_reg_1' }, NOW, captured));
});
beforeEach(() => {
  testRuntime.now = () => NOW;
});

const rowCount = async () =>
  Object.values(await pipeline.journal.events.counts()).reduce((sum, n) => sum + (n ?? 0), 0);

describe('POST /webhooks/logto: bad input is refused and nothing is recorded', () => {
  const invalidUtf8 = new Uint8Array([0x7b, 0x22, 0x65, 0xff, 0xfe, 0x22, 0x7d]);
  const cases: {
    name: string;
    body: () => string | Uint8Array;
    signature?: (body: string | Uint8Array) => Promise<string | null> | string | null;
    status: number;
    error: string;
  }[] = [
    {
      name: 'unsigned',
      body: () => signUpBody(),
      signature: () => null,
      status: 401,
      error: 'invalid_signature',
    },
    {
      name: 'signed with another key',
      body: () => signUpBody(),
      signature: (body) => sign(body, 'some-other-key'),
      status: 401,
      error: 'invalid_signature',
    },
    {
      name: 'signature of another body',
      body: () => signUpBody(),
      signature: () => sign(signUpBody()),
      status: 401,
      error: 'invalid_signature',
    },
    {
      name: 'uppercase hex',
      body: () => signUpBody(),
      signature: async (body) => (await sign(body)).toUpperCase(),
      status: 401,
      error: 'invalid_signature',
    },
    {
      name: 'whitespace inside the hex',
      body: () => signUpBody(),
      signature: async (body) => {
        const hex = await sign(body);
        return `${hex.slice(0, 32)} ${hex.slice(32)}`;
      },
      status: 401,
      error: 'invalid_signature',
    },
    {
      name: 'sha256= prefix',
      body: () => signUpBody(),
      signature: async (body) => `sha256=${await sign(body)}`,
      status: 401,
      error: 'invalid_signature',
    },
    {
      name: 'truncated body (signature of the whole)',
      body: () => signUpBody().slice(0, 100),
      signature: () => sign(signUpBody()),
      status: 401,
      error: 'invalid_signature',
    },
    { name: 'invalid UTF-8, signed', body: () => invalidUtf8, status: 400, error: 'invalid_json' },
    { name: 'not JSON, signed', body: () => 'event=PostRegister', status: 400, error: 'invalid_json' },
    {
      name: 'a JSON array, signed',
      body: () => '[{"event":"PostRegister"}]',
      status: 400,
      error: 'invalid_payload',
    },
    { name: 'JSON null, signed', body: () => 'null', status: 400, error: 'invalid_payload' },
    {
      name: 'createdAt of the wrong type',
      body: () => signUpBody({ createdAt: 1_795_565_517_463 }),
      status: 400,
      error: 'invalid_payload',
    },
    {
      name: 'userId of the wrong type',
      body: () => signUpBody({ userId: 42 }),
      status: 400,
      error: 'invalid_payload',
    },
    {
      name: 'missing hookId',
      body: () => JSON.stringify({ event: 'PostSignIn', createdAt: new Date(NOW).toISOString() }),
      status: 400,
      error: 'invalid_payload',
    },
    {
      name: 'missing event',
      body: () => JSON.stringify({ createdAt: new Date(NOW).toISOString(), hookId: 'h' }),
      status: 400,
      error: 'invalid_payload',
    },
    {
      name: 'body over 1 MiB',
      body: () => signUpBody({ padding: 'x'.repeat(MAX_BODY_BYTES) }),
      status: 413,
      error: 'payload_too_large',
    },
    {
      name: 'createdAt 16 minutes old (replayed signed body)',
      body: () => signUpBody({ createdAt: new Date(NOW - 16 * 60_000).toISOString() }),
      status: 401,
      error: 'stale_event',
    },
    {
      name: 'createdAt 10 minutes in the future',
      body: () => signUpBody({ createdAt: new Date(NOW + 10 * 60_000).toISOString() }),
      status: 401,
      error: 'future_event',
    },
  ];

  for (const testCase of cases) {
    it(`${testCase.name} → ${testCase.status}`, async () => {
      const before = await rowCount();
      const body = testCase.body();
      const signature = testCase.signature ? await testCase.signature(body) : undefined;
      const response = await deliver(body, signature);
      expect(response.status).toBe(testCase.status);
      const answer = (await response.json()) as { error: string };
      expect(answer.error).toBe(testCase.error);
      expect(await rowCount()).toBe(before);
    });
  }

  it('property: no mutation of a signed body is accepted, and none is recorded', async () => {
    const body = encoder.encode(signUpBody());
    const signature = await sign(body);
    const before = await rowCount();
    await fc.assert(
      fc.asyncProperty(
        fc.nat(body.length - 1),
        fc.integer({ min: 1, max: 255 }),
        fc.constantFrom('flip', 'truncate', 'insert', 'delete'),
        async (index, byte, kind) => {
          let mutated: Uint8Array;
          if (kind === 'flip') {
            mutated = body.slice();
            mutated[index] = (mutated[index] ?? 0) ^ byte;
          } else if (kind === 'truncate') mutated = body.slice(0, index);
          else if (kind === 'insert') {
            mutated = new Uint8Array([...body.slice(0, index), byte, ...body.slice(index)]);
          } else mutated = new Uint8Array([...body.slice(0, index), ...body.slice(index + 1)]);
          const response = await deliver(mutated, signature);
          expect(response.status).toBe(401);
        },
      ),
      { numRuns: 60 },
    );
    expect(await rowCount()).toBe(before);
  });
});

describe('POST /webhooks/logto: accepted deliveries', () => {
  it('the three real captures verify and parse; a sign-up is accepted, an API-created user has no automation', async () => {
    const captureEnv = { ...env, LOGTO_WEBHOOK_SIGNING_KEY: postRegister.signingKey };
    const expected: [typeof postRegister, number, string][] = [
      [userCreatedSignUp, 202, 'accepted'],
      [postRegister, 202, 'accepted'],
      [userCreatedApi, 200, 'ignored'],
    ];
    for (const [capture, status, outcome] of expected) {
      testRuntime.now = () => Date.parse(JSON.parse(capture.rawBody).createdAt) + 2_000;
      const response = await deliver(capture.rawBody, capture.headers['logto-signature-sha-256'], captureEnv);
      expect(response.status).toBe(status);
      expect(((await response.json()) as { status: string }).status).toBe(outcome);
    }
  });

  it('accepts the previous key while a key is being rotated, and only then', async () => {
    const body = signUpBody();
    const signature = await sign(body, 'old-key');
    expect((await deliver(body, signature)).status).toBe(401);
    const rotating = { ...env, LOGTO_WEBHOOK_SIGNING_KEY_PREVIOUS: 'old-key' };
    expect((await deliver(body, signature, rotating)).status).toBe(202);
  });

  it('an unknown event name is recorded as ignored (2xx) and never run', async () => {
    const body = JSON.stringify({
      event: 'Future.Event',
      createdAt: new Date(NOW).toISOString(),
      hookId: 'h',
    });
    const response = await deliver(body);
    expect(response.status).toBe(200);
    const { eventKey, status } = (await response.json()) as { eventKey: string; status: string };
    expect(status).toBe('ignored');
    expect(await pipeline.journal.events.get(eventKey)).toMatchObject({
      status: 'ignored',
      eventType: 'Future.Event',
      lastErrorCode: 'unknown_event',
    });
  });

  it('an event caused by this Worker’s own Management API write is recorded as self and not acted on', async () => {
    const response = await deliver(signUpBody({ userAgent: PROJECT_USER_AGENT }));
    expect(response.status).toBe(200);
    const { eventKey } = (await response.json()) as { eventKey: string };
    expect(await pipeline.journal.events.get(eventKey)).toMatchObject({
      status: 'self',
      lastErrorCode: 'own_write',
    });
  });

  it('a duplicate delivery answers 200 and changes nothing; concurrent identical deliveries record one event', async () => {
    const body = signUpBody();
    const first = await deliver(body);
    expect(first.status).toBe(202);
    const second = await deliver(body);
    expect(second.status).toBe(200);
    expect(((await second.json()) as { status: string }).status).toBe('duplicate');

    const concurrent = signUpBody();
    const answers = await Promise.all(Array.from({ length: 10 }, () => deliver(concurrent)));
    expect(answers.map((answer) => answer.status).sort()).toEqual([
      200, 200, 200, 200, 200, 200, 200, 200, 200, 202,
    ]);
  });

  it('keys a Logto event by its canonical JSON; an event journaled before, under its raw-bytes key, stays a duplicate', async () => {
    const body = signUpBody();
    const payload = JSON.parse(body) as Record<string, unknown>;
    const first = (await (await deliver(body)).json()) as { eventKey: string };
    expect(first.eventKey).toBe(await logtoEventKey(payload));
    // The same content with its keys in another order (as Logto's hook log returns it) is the same event.
    const reordered = JSON.stringify(Object.fromEntries(Object.entries(payload).reverse()));
    expect(await (await deliver(reordered)).json()).toMatchObject({
      status: 'duplicate',
      eventKey: first.eventKey,
    });
    // A row recorded before this change: keyed by the raw bytes.
    const old = signUpBody();
    await pipeline.journal.events.record({
      eventKey: await eventKey(new TextEncoder().encode(old)),
      source: 'logto',
      eventType: 'PostRegister',
      status: 'ignored',
      rawBody: old,
    });
    expect(await (await deliver(old)).json()).toMatchObject({ status: 'duplicate' });
  });

  it('a journal that cannot record → 503 (a retrying sender retries), nothing answered 2xx', async () => {
    const broken = {
      ...env,
      JOURNAL: {
        prepare() {
          throw new Error('D1_ERROR: database unavailable');
        },
      } as unknown as D1Database,
    };
    const response = await deliver(signUpBody(), undefined, broken);
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ error: 'journal_unavailable' });
  });

  it('every accepted sign-up ran to done, each acted on once; ignored, self and duplicates were never run', async () => {
    const counts = await pipeline.drain();
    expect(counts.received ?? 0).toBe(0);
    expect(counts.failed ?? 0).toBe(0);
    const done = (await pipeline.journal.events.list({ status: 'done', limit: 100 })).entries;
    const users = new Set(done.map((entry) => entry.subject));
    // 4 PostRegister (rotation, duplicate, concurrent, canonical key) + the 2 captures of one sign-up (one user): one
    // of those two acted, the other is covered by it.
    expect(done.length).toBe(5);
    expect(users.size).toBe(5);
    expect(counts.covered).toBe(1);
    expect(pipeline.emulator.faults.count('POST /api/users/:userId/roles')).toBe(users.size);
  });
});
