import { env } from 'cloudflare:workers';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';
import type { TokenFaults } from '../emulator';
import { TOKEN_KEY_PREFIX, TokenCheckError } from '../src/kv-token-cache';
import { rejection, setupLogto, tokenRequestCount } from './helpers';

async function kvTokenKeys(): Promise<string[]> {
  return (await env.TOKEN_CACHE.list({ prefix: TOKEN_KEY_PREFIX })).keys.map((key) => key.name);
}

describe('a token that fails one check is neither cached nor used', () => {
  const cases: [keyof TokenFaults, string][] = [
    ['badSignature', 'signature'],
    ['wrongIssuer', 'issuer'],
    ['wrongAudience', 'audience'],
    ['wrongSubject', 'subject'],
    ['missingScope', 'scope'],
    ['expired', 'expired'],
    ['wrongType', 'type'],
  ];
  for (const [fault, check] of cases) {
    it(`${fault} → check "${check}"`, async () => {
      const { emulator, tokens } = await setupLogto();
      const before = await kvTokenKeys();
      emulator.setTokenFaults({ [fault]: true });
      const error = await rejection<TokenCheckError>(tokens.getToken());
      expect(error).toBeInstanceOf(TokenCheckError);
      expect(error.code).toBe(`token_${check}`);
      expect(error.httpStatus).toBe(503);
      expect(error.check).toBe(check);
      expect(error.message).not.toMatch(/eyJ/); // no JWT in the message
      expect(await kvTokenKeys()).toEqual(before); // nothing cached
      // Not kept in memory either: the next call goes back to the token endpoint and now succeeds.
      emulator.setTokenFaults({});
      await expect(tokens.getToken()).resolves.toMatch(/^eyJ/);
      expect(tokenRequestCount(emulator)).toBe(2);
    });
  }

  it('rejects an algorithm outside the allow-list (ES256 token, ES384 allowed)', async () => {
    const { tokens } = await setupLogto({ emulator: { algorithm: 'ES256' } });
    const error = await rejection<TokenCheckError>(tokens.getToken());
    expect(error.check).toBe('algorithm');
  });

  it('accepts RS256 when it is allowed', async () => {
    const { tokens } = await setupLogto({
      emulator: { algorithm: 'RS256' },
      cache: { algorithms: ['RS256'] },
    });
    await expect(tokens.getToken()).resolves.toMatch(/^eyJ/);
  });

  it('a valid token passes every check', async () => {
    const { tokens, emulator } = await setupLogto();
    const token = await tokens.getToken();
    const header = decodeProtectedHeader(token);
    const payload = decodeJwt(token);
    expect(header).toMatchObject({ alg: 'ES384', typ: 'at+jwt', kid: emulator.currentKid() });
    expect(payload).toMatchObject({
      sub: 'm2m-app',
      aud: emulator.resource,
      iss: emulator.issuer,
      scope: 'all',
    });
  });
});

describe('signing key rotation', () => {
  it('refetches the JWKS once when a token carries an unknown kid', async () => {
    const { emulator, tokens: first } = await setupLogto();
    await first.getToken();
    expect(emulator.faults.count('GET /oidc/jwks')).toBe(1);
    await emulator.rotateKeys();
    await first.invalidate(await first.getToken());
    const token = await first.getToken();
    expect(decodeProtectedHeader(token).kid).toBe(emulator.currentKid());
    expect(emulator.faults.count('GET /oidc/jwks')).toBe(2);
  });
});
