import { describe, expect, it } from 'vitest';
import { createLogtoEmulator, type HookLogEntry } from '../emulator';
import { logtoEventKey } from '../src/events';
import { verifyLogtoSignature } from '../src/webhook-signature';
import postRegister from './fixtures/logto-webhooks/post-register.json';
import userCreatedApi from './fixtures/logto-webhooks/user-created-management-api.json';
import userCreatedSignUp from './fixtures/logto-webhooks/user-created-sign-up.json';
import { emulatorToken, uniqueEndpoint } from './helpers';

const KEY = 'emulator-hook-key';

async function recordingEmulator() {
  const received: { headers: [string, string][]; body: string }[] = [];
  const emulator = await createLogtoEmulator({
    endpoint: uniqueEndpoint(),
    hooks: [{ url: 'http://receiver.test/hook', signingKey: KEY }],
    deliver: async (input, init) => {
      const request = new Request(input, init);
      received.push({ headers: [...new Headers(init?.headers).entries()], body: await request.text() });
      return new Response(null, { status: 204 });
    },
  });
  return { emulator, received };
}

const keysOf = (raw: string) => Object.keys(JSON.parse(raw));
const userKeys = (raw: string, field: string) => Object.keys(JSON.parse(raw)[field]);

describe('the emulator’s webhooks match real Logto 1.42 deliveries', () => {
  it('a sign-up sends User.Created then PostRegister, shaped like the captures, signed, once each', async () => {
    const { emulator, received } = await recordingEmulator();
    const user = await emulator.signUp({ username: 'peer_reg_1' });
    expect(received.map((delivery) => JSON.parse(delivery.body).event)).toEqual([
      'User.Created',
      'PostRegister',
    ]);
    const [created, registered] = received as [(typeof received)[0], (typeof received)[0]];
    expect(keysOf(created.body)).toEqual(keysOf(userCreatedSignUp.rawBody));
    expect(userKeys(created.body, 'data')).toEqual(userKeys(userCreatedSignUp.rawBody, 'data'));
    expect(keysOf(registered.body)).toEqual(keysOf(postRegister.rawBody));
    expect(userKeys(registered.body, 'user')).toEqual(userKeys(postRegister.rawBody, 'user'));
    expect(JSON.parse(registered.body).userId).toBe(user.id);
    const captured = Object.keys(postRegister.headers).filter((name) => name !== 'content-length');
    for (const delivery of received) {
      expect(delivery.headers.map(([name]) => name).sort()).toEqual([...captured].sort());
      expect(Object.fromEntries(delivery.headers)['user-agent']).toBe(postRegister.headers['user-agent']);
      const signature = Object.fromEntries(delivery.headers)['logto-signature-sha-256'] ?? null;
      expect(
        await verifyLogtoSignature(new TextEncoder().encode(delivery.body), signature, [KEY]),
      ).toMatchObject({ ok: true });
    }
  });

  it('a user created through the Management API sends User.Created with the API context, and the caller’s User-Agent', async () => {
    const { emulator, received } = await recordingEmulator();
    const token = await emulatorToken(emulator);
    await emulator.fetch(`${emulator.endpoint}/api/users`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        'user-agent': 'curl/7.88.1',
      },
      body: JSON.stringify({
        username: 'peer_user_1',
        primaryEmail: 'peer1@example.com',
        name: 'Peer One',
        password: 'x1234567!',
      }),
    });
    await emulator.webhooks.settled();
    expect(received).toHaveLength(1);
    const body = received[0]?.body ?? '';
    expect(keysOf(body)).toEqual(keysOf(userCreatedApi.rawBody));
    expect(userKeys(body, 'data')).toEqual(userKeys(userCreatedApi.rawBody, 'data'));
    expect(JSON.parse(body).userAgent).toBe('curl/7.88.1');
  });

  it('delivers at most once: a failing receiver is not retried, a dropped delivery is never sent', async () => {
    const attempts: string[] = [];
    const emulator = await createLogtoEmulator({
      endpoint: uniqueEndpoint(),
      hooks: [{ url: 'http://receiver.test/hook', signingKey: KEY }],
      deliver: async (_input, init) => {
        attempts.push(JSON.parse(String(init?.body)).event);
        return new Response('down', { status: 500 });
      },
    });
    emulator.webhooks.setDrop((event) => event === 'PostRegister');
    await emulator.signUp();
    expect(attempts).toEqual(['User.Created']);
    expect(emulator.webhooks.deliveries.map((d) => [d.event, d.outcome])).toEqual([
      ['User.Created', 500],
      ['PostRegister', 'dropped'],
    ]);
  });
});

describe('the emulator’s hook log matches what a real Logto 1.42 keeps (logto-reference §0.1)', () => {
  it('one entry per attempt: Success with the answer, Error with an HTTPError or a refused connection; the body in jsonb order, canonically equal', async () => {
    let answer = 202;
    const delivered: string[] = [];
    const emulator = await createLogtoEmulator({
      endpoint: uniqueEndpoint(),
      hooks: [{ id: 'hook-a', url: 'http://receiver.test/hook', signingKey: KEY }],
      deliver: async (input, init) => {
        delivered.push(await new Request(input, init).text());
        return Response.json({ status: 'accepted' }, { status: answer });
      },
    });
    await emulator.signUp({ username: 'logged' });
    answer = 503;
    await emulator.signUp({ username: 'refused' });
    emulator.webhooks.setDrop(() => true);
    await emulator.signUp({ username: 'unreachable' });
    const token = await emulatorToken(emulator);
    const get = (query: string) =>
      emulator.fetch(`${emulator.endpoint}/api/hooks/hook-a/recent-logs?${query}`, {
        headers: { authorization: `Bearer ${token}` },
      });
    const page = await get('page=1&page_size=100');
    expect(page.headers.get('total-number')).toBe('6');
    const entries = (await page.json()) as HookLogEntry[];
    // Newest first.
    expect(entries.map((entry) => [entry.key, entry.payload.result])).toEqual([
      ['TriggerHook.PostRegister', 'Error'],
      ['TriggerHook.User.Created', 'Error'],
      ['TriggerHook.PostRegister', 'Error'],
      ['TriggerHook.User.Created', 'Error'],
      ['TriggerHook.PostRegister', 'Success'],
      ['TriggerHook.User.Created', 'Success'],
    ]);
    const [unreachable, , refused, , success] = entries as HookLogEntry[];
    expect(success?.payload).toMatchObject({ response: { statusCode: 202, body: { status: 'accepted' } } });
    expect(success?.payload.error).toBeUndefined();
    expect(refused?.payload.error).toMatch(/^HTTPError: /);
    expect(refused?.payload.response).toBeUndefined();
    expect(unreachable?.payload.error).toMatch(/ECONNREFUSED/);
    expect(Object.keys(success?.payload ?? {})).toEqual(
      expect.arrayContaining(['key', 'result', 'hookId', 'hookRequest']),
    );
    // The logged body: same content as the delivered bytes, keys in another order (jsonb); canonical JSON equal.
    const raw = delivered[1] ?? '';
    const logged = success?.payload.hookRequest.body;
    expect(JSON.stringify(logged)).not.toBe(raw);
    expect(await logtoEventKey(logged)).toBe(await logtoEventKey(JSON.parse(raw)));
    // Paging, key filter and time bounds.
    const second = (await (await get('page=2&page_size=4')).json()) as HookLogEntry[];
    expect(second).toHaveLength(2);
    const created = (await (await get('logKey=TriggerHook.User.Created')).json()) as HookLogEntry[];
    expect(created).toHaveLength(3);
    const future = (await (await get(`start_time=${Date.now() + 60_000}`)).json()) as HookLogEntry[];
    expect(future).toHaveLength(0);
    const unknown = await emulator.fetch(`${emulator.endpoint}/api/hooks/nope/recent-logs`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(unknown.status).toBe(404);
    const hooks = (await (
      await emulator.fetch(`${emulator.endpoint}/api/hooks`, {
        headers: { authorization: `Bearer ${token}` },
      })
    ).json()) as { id: string; config: { url: string } }[];
    expect(hooks).toEqual([
      expect.objectContaining({ id: 'hook-a', config: { url: 'http://receiver.test/hook' } }),
    ]);
  });
});
