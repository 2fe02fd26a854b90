import { describe, expect, it } from 'vitest';
import { createLogtoEmulator } from '../emulator';
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
