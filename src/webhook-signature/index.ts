/**
 * Pure webhook signature verifiers (WebCrypto only). They take the raw body bytes — never a parsed body — and
 * return a Result; they never throw on bad input.
 */

export type SignatureResult =
  | { ok: true; keyIndex: number }
  | { ok: false; reason: 'missing' | 'malformed' | 'mismatch' };

/** Logto signs with lowercase hex HMAC-SHA256 (64 characters), no prefix (L `utils/sign.ts`). */
const LOGTO_SIGNATURE = /^[0-9a-f]{64}$/;

const keyCache = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keyCache.get(secret);
  if (!key) {
    key = crypto.subtle.importKey(
      'raw',
      new TextEncoder().encode(secret),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['verify'],
    );
    keyCache.set(secret, key);
  }
  return key;
}

function hexToBytes(hex: string): Uint8Array {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

/**
 * Verifies Logto's `logto-signature-sha-256` header over the raw body, trying each signing key (pass two during a
 * rotation). The comparison is WebCrypto's `verify`, which is constant time.
 *
 * @example
 * const result = await verifyLogtoSignature(rawBody, request.headers.get('logto-signature-sha-256'), [key, oldKey]);
 */
export async function verifyLogtoSignature(
  rawBody: ArrayBuffer | Uint8Array,
  header: string | null,
  signingKeys: readonly string[],
): Promise<SignatureResult> {
  if (!header) return { ok: false, reason: 'missing' };
  if (!LOGTO_SIGNATURE.test(header)) return { ok: false, reason: 'malformed' };
  const signature = hexToBytes(header);
  for (const [keyIndex, secret] of signingKeys.entries()) {
    if (!secret) continue;
    if (await crypto.subtle.verify('HMAC', await hmacKey(secret), signature, rawBody))
      return { ok: true, keyIndex };
  }
  return { ok: false, reason: 'mismatch' };
}
