import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { verifyLogtoSignature } from '../../src/webhook-signature';
import postRegister from '../fixtures/logto-webhooks/post-register.json';
import userCreatedApi from '../fixtures/logto-webhooks/user-created-management-api.json';
import userCreatedSignUp from '../fixtures/logto-webhooks/user-created-sign-up.json';

const encode = (text: string) => new TextEncoder().encode(text);
const captures = [postRegister, userCreatedApi, userCreatedSignUp];

describe('Logto webhook signature', () => {
  it('Logto’s own test vector verifies (L utils/sign.test.ts)', async () => {
    const result = await verifyLogtoSignature(
      encode('{"bar":"bar","foo":"foo"}'),
      '436958f1dbfefab37712fb3927760490fbf7757da8c0b2306ee7b485f0360eee',
      ['foo'],
    );
    expect(result).toEqual({ ok: true, keyIndex: 0 });
  });

  for (const capture of captures) {
    it(`a real delivery verifies: ${JSON.parse(capture.rawBody).event}`, async () => {
      const header = capture.headers['logto-signature-sha-256'];
      expect(await verifyLogtoSignature(encode(capture.rawBody), header, [capture.signingKey])).toEqual({
        ok: true,
        keyIndex: 0,
      });
    });
  }

  it('accepts the second key during a rotation, and says which key matched', async () => {
    const capture = postRegister;
    const header = capture.headers['logto-signature-sha-256'];
    expect(
      await verifyLogtoSignature(encode(capture.rawBody), header, ['new-key-0123', capture.signingKey]),
    ).toEqual({
      ok: true,
      keyIndex: 1,
    });
  });

  it('rejects missing, malformed (uppercase, whitespace, prefixed, short) and wrong signatures', async () => {
    const body = encode(postRegister.rawBody);
    const header = postRegister.headers['logto-signature-sha-256'];
    const key = [postRegister.signingKey];
    expect(await verifyLogtoSignature(body, null, key)).toEqual({ ok: false, reason: 'missing' });
    for (const bad of [header.toUpperCase(), ` ${header}`, `sha256=${header}`, header.slice(2)]) {
      expect(await verifyLogtoSignature(body, bad, key)).toEqual({ ok: false, reason: 'malformed' });
    }
    expect(await verifyLogtoSignature(body, header, ['wrong'])).toEqual({ ok: false, reason: 'mismatch' });
    const other = userCreatedApi.headers['logto-signature-sha-256'];
    expect(await verifyLogtoSignature(body, other, key)).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('property: no mutation of a signed body verifies', async () => {
    const body = encode(postRegister.rawBody);
    const header = postRegister.headers['logto-signature-sha-256'];
    await fc.assert(
      fc.asyncProperty(
        fc.nat(body.length - 1),
        fc.integer({ min: 1, max: 255 }),
        fc.boolean(),
        async (index, flip, truncate) => {
          const mutated = truncate ? body.slice(0, index) : body.slice();
          if (!truncate) mutated[index] = (mutated[index] ?? 0) ^ flip;
          const result = await verifyLogtoSignature(mutated, header, [postRegister.signingKey]);
          expect(result.ok).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });
});
