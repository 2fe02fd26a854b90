import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  DATA_EVENTS,
  EXCEPTION_EVENTS,
  eventKey,
  INTERACTION_EVENTS,
  logtoEventKey,
  parseLogtoEvent,
  subjectOf,
} from '../../src/events';
import postRegister from '../fixtures/logto-webhooks/post-register.json';
import userCreatedApi from '../fixtures/logto-webhooks/user-created-management-api.json';
import userCreatedSignUp from '../fixtures/logto-webhooks/user-created-sign-up.json';

const envelope = { createdAt: '2026-11-25T00:10:36.709Z', hookId: 'hook1' };

describe('Logto event payloads', () => {
  it('the real captures parse, with their family and subject', () => {
    const expectations: [typeof postRegister, string, string][] = [
      [postRegister, 'interaction', 'hd1a6m63kw4u'],
      [userCreatedApi, 'user', 'roco0t5o3zlv'],
      [userCreatedSignUp, 'user', 'hd1a6m63kw4u'],
    ];
    for (const [capture, family, subject] of expectations) {
      const result = parseLogtoEvent(JSON.parse(capture.rawBody));
      if (!result.ok) throw new Error(result.reason);
      expect(result.event.family).toBe(family);
      expect(subjectOf(result.event)).toBe(subject);
    }
  });

  it('unknown fields pass through', () => {
    const result = parseLogtoEvent(JSON.parse(userCreatedApi.rawBody));
    expect(result.ok && result.event.family === 'user' && result.event.data.hasPassword).toBe(true);
  });

  it('every event family a Logto 1.42 sends parses (Deleted events carry no data)', () => {
    for (const event of [...INTERACTION_EVENTS, ...DATA_EVENTS, ...EXCEPTION_EVENTS]) {
      const payload: Record<string, unknown> = { event, ...envelope };
      if (event.startsWith('User.') && event !== 'User.Data.Updated') payload.data = { id: 'u1' };
      if (event === 'Organization.Membership.Updated') payload.organizationId = 'o1';
      const result = parseLogtoEvent(payload);
      expect(result.ok, `${event}: ${result.ok ? '' : result.reason}`).toBe(true);
    }
  });

  it('membership deltas and custom-data updates name their subject', () => {
    const membership = parseLogtoEvent({
      event: 'Organization.Membership.Updated',
      ...envelope,
      organizationId: 'org1',
      addedUserIds: ['u1', 'u2'],
    });
    expect(
      membership.ok && membership.event.family === 'membership' && membership.event.addedUserIds,
    ).toEqual(['u1', 'u2']);
    const customData = parseLogtoEvent({
      event: 'User.Data.Updated',
      ...envelope,
      params: { userId: 'u9', '0': 'custom-data' },
      data: { plan: 'pro' },
    });
    expect(customData.ok && subjectOf(customData.event)).toBe('u9');
  });

  it('an unknown event name is accepted as family "unknown"', () => {
    const result = parseLogtoEvent({ event: 'TrustedDevice.Created', ...envelope });
    expect(result.ok && result.event.family).toBe('unknown');
  });

  const invalid: [string, unknown][] = [
    ['an array', []],
    ['a string', 'PostRegister'],
    ['null', null],
    ['no event', { ...envelope }],
    ['no createdAt', { event: 'PostSignIn', hookId: 'h' }],
    ['no hookId', { event: 'PostSignIn', createdAt: envelope.createdAt }],
    ['a bad createdAt', { event: 'PostSignIn', hookId: 'h', createdAt: 'yesterday' }],
    ['a user event without a user', { event: 'User.Created', ...envelope }],
    ['wrong types', { event: 'PostRegister', ...envelope, userId: 42 }],
    ['membership without organizationId', { event: 'Organization.Membership.Updated', ...envelope }],
  ];
  for (const [label, payload] of invalid) {
    it(`rejects ${label}`, () => {
      expect(parseLogtoEvent(payload)).toMatchObject({ ok: false, reason: expect.any(String) });
    });
  }

  it('Logto event key: SHA-256 of the canonical JSON — key order and whitespace do not matter, content does', async () => {
    for (const capture of [postRegister, userCreatedApi, userCreatedSignUp]) {
      const payload = JSON.parse(capture.rawBody) as Record<string, unknown>;
      const key = await logtoEventKey(payload);
      expect(key).toMatch(/^[0-9a-f]{64}$/);
      // As PostgreSQL jsonb gives it back from Logto's hook log: other key order (recursively), other spacing.
      const reorder = (value: unknown): unknown =>
        Array.isArray(value)
          ? value.map(reorder)
          : value && typeof value === 'object'
            ? Object.fromEntries(
                Object.entries(value)
                  .reverse()
                  .map(([k, v]) => [k, reorder(v)]),
              )
            : value;
      const logged = JSON.parse(JSON.stringify(reorder(payload), null, 2));
      expect(JSON.stringify(logged)).not.toBe(JSON.stringify(payload));
      expect(await logtoEventKey(logged)).toBe(key);
      expect(await logtoEventKey({ ...payload, createdAt: '2000-01-01T00:00:00.000Z' })).not.toBe(key);
    }
    expect(canonicalJson({ b: [2, { d: 1, c: null }], a: 'x' })).toBe('{"a":"x","b":[2,{"c":null,"d":1}]}');
  });

  it('raw-bytes key (the key before canonical keys): SHA-256 of the exact bytes', async () => {
    const bytes = new TextEncoder().encode(postRegister.rawBody);
    const key = await eventKey(bytes);
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(await eventKey(new TextEncoder().encode(postRegister.rawBody))).toBe(key);
    expect(await eventKey(new TextEncoder().encode(`${postRegister.rawBody} `))).not.toBe(key);
  });
});
