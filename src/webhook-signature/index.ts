/**
 * Pure webhook signature verifiers (WebCrypto only). They take the raw body bytes — never a parsed body — and
 * return a Result; they never throw on bad input. One signer too: the Standard Webhooks signature of the alerts.
 */

export type SignatureResult =
  | { ok: true; keyIndex: number }
  | { ok: false; reason: 'missing' | 'malformed' | 'mismatch' | 'stale' | 'future' };

/** A failed check, and why. */
const rejected = (reason: Extract<SignatureResult, { ok: false }>['reason']): SignatureResult => ({
  ok: false,
  reason,
});

/** Logto signs with lowercase hex HMAC-SHA256 (64 characters), no prefix (L `utils/sign.ts`). */
const LOGTO_SIGNATURE = /^[0-9a-f]{64}$/;

/**
 * Imported verify keys, as values: a pending import is never shared, because workerd cancels it when the request that
 * started it ends and another request awaiting it would hang (the runtime rule, docs/architecture.md). Two requests
 * that race on a new secret each import it once; the last one stored wins, both are the same key.
 */
const keyCache = new Map<string, CryptoKey>();

/** An HMAC-SHA256 verify key: the secret's UTF-8 bytes, or the given bytes (Standard Webhooks' `whsec_` secrets). */
async function hmacKey(secret: string, bytes?: Uint8Array): Promise<CryptoKey> {
  const cacheKey = bytes ? `bytes:${secret}` : `utf8:${secret}`;
  const cached = keyCache.get(cacheKey);
  if (cached) return cached;
  const key = await crypto.subtle.importKey(
    'raw',
    bytes ?? new TextEncoder().encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['verify'],
  );
  keyCache.set(cacheKey, key);
  return key;
}

/** The signed bytes: the parts (strings as UTF-8) one after another. */
const signedBytes = (...parts: (string | Uint8Array)[]) => new Blob(parts).arrayBuffer();

function base64ToBytes(text: string): Uint8Array | undefined {
  try {
    return Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
  } catch {
    return undefined;
  }
}

/** The key bytes of a Standard Webhooks secret: the base64 after `whsec_`. */
const whsecBytes = (secret: string) => base64ToBytes(secret.startsWith('whsec_') ? secret.slice(6) : secret);

/** Checks a signed timestamp (seconds) against the tolerance, both ways (an old replay, a clock far ahead). */
function freshness(
  timestampSeconds: number,
  nowMs: number,
  toleranceSeconds: number,
): SignatureResult | undefined {
  const age = nowMs / 1000 - timestampSeconds;
  if (age > toleranceSeconds) return rejected('stale');
  if (age < -toleranceSeconds) return rejected('future');
  return undefined;
}

/** Tries every (secret, signature) pair with WebCrypto's constant-time `verify`. */
async function anyVerifies(
  secrets: readonly { secret: string; bytes?: Uint8Array }[],
  signatures: readonly Uint8Array[],
  signed: BufferSource,
): Promise<SignatureResult> {
  for (const [keyIndex, { secret, bytes }] of secrets.entries()) {
    if (!secret) continue;
    const key = await hmacKey(secret, bytes);
    for (const signature of signatures) {
      if (await crypto.subtle.verify('HMAC', key, signature, signed)) return { ok: true, keyIndex };
    }
  }
  return rejected('mismatch');
}

/** Default tolerance of Stripe's and Standard Webhooks' signed timestamps. */
export const CALLBACK_TOLERANCE_SECONDS = 300;

/**
 * Stripe's `Stripe-Signature: t=<seconds>,v1=<hex>[,v1=<hex>…]`: HMAC-SHA256 of `<t>.<raw body>` with the endpoint
 * secret (`whsec_…`, used as UTF-8); any `v1` may match (Stripe sends one per active secret while rolling).
 */
export async function verifyStripeSignature(
  rawBody: Uint8Array,
  header: string | null,
  secrets: readonly string[],
  nowMs: number,
  toleranceSeconds = CALLBACK_TOLERANCE_SECONDS,
): Promise<SignatureResult> {
  if (!header) return rejected('missing');
  let timestamp: string | undefined;
  const signatures: Uint8Array[] = [];
  for (const part of header.split(',')) {
    const [name, value] = part.trim().split('=', 2);
    if (name === 't' && value && /^\d{1,12}$/.test(value)) timestamp = value;
    if (name === 'v1' && value && LOGTO_SIGNATURE.test(value)) signatures.push(hexToBytes(value));
  }
  if (!timestamp || signatures.length === 0) return rejected('malformed');
  const stale = freshness(Number(timestamp), nowMs, toleranceSeconds);
  if (stale) return stale;
  return anyVerifies(
    secrets.map((secret) => ({ secret })),
    signatures,
    await signedBytes(timestamp, '.', rawBody),
  );
}

/** GitHub's `X-Hub-Signature-256: sha256=<lowercase hex>` over the raw body. */
export async function verifyGitHubSignature(
  rawBody: Uint8Array,
  header: string | null,
  secrets: readonly string[],
): Promise<SignatureResult> {
  if (!header) return rejected('missing');
  const match = /^sha256=([0-9a-f]{64})$/.exec(header);
  if (!match?.[1]) return rejected('malformed');
  return anyVerifies(
    secrets.map((secret) => ({ secret })),
    [hexToBytes(match[1])],
    rawBody,
  );
}

/**
 * Standard Webhooks: `webhook-signature: v1,<base64> [v1,<base64> …]` = HMAC-SHA256 of `<webhook-id>.<webhook-timestamp>.<raw
 * body>` with the base64-decoded part of a `whsec_` secret; the timestamp (seconds) within the tolerance.
 */
export async function verifyStandardWebhook(
  rawBody: Uint8Array,
  headers: { id: string | null; timestamp: string | null; signature: string | null },
  secrets: readonly string[],
  nowMs: number,
  toleranceSeconds = CALLBACK_TOLERANCE_SECONDS,
): Promise<SignatureResult> {
  if (!headers.id || !headers.timestamp || !headers.signature) return rejected('missing');
  if (!/^\d{1,12}$/.test(headers.timestamp) || headers.id.length > 256) return rejected('malformed');
  const signatures = headers.signature
    .split(' ')
    .filter((item) => item.startsWith('v1,'))
    .flatMap((item) => base64ToBytes(item.slice(3)) ?? []);
  if (signatures.length === 0) return rejected('malformed');
  const stale = freshness(Number(headers.timestamp), nowMs, toleranceSeconds);
  if (stale) return stale;
  const keys = secrets.flatMap((secret) => {
    const bytes = whsecBytes(secret);
    return bytes ? [{ secret, bytes }] : [];
  });
  return anyVerifies(keys, signatures, await signedBytes(headers.id, '.', headers.timestamp, '.', rawBody));
}

/**
 * Signs an outbound Standard Webhooks message (the Worker's alerts): `v1,<base64>` of HMAC-SHA256 over
 * `<webhook-id>.<webhook-timestamp>.<body>` with the key bytes of a `whsec_` secret — what
 * {@link verifyStandardWebhook} checks. Returns the value of the `webhook-signature` header.
 */
export async function signStandardWebhook(
  body: string,
  headers: { id: string; timestamp: string },
  secret: string,
): Promise<string> {
  const bytes = whsecBytes(secret);
  if (!bytes || bytes.byteLength === 0) throw new Error('the secret is not whsec_<base64>');
  // A signing key is used once per notice: not cached (the verify keys above are).
  const key = await crypto.subtle.importKey('raw', bytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = new Uint8Array(
    await crypto.subtle.sign('HMAC', key, await signedBytes(headers.id, '.', headers.timestamp, '.', body)),
  );
  return `v1,${btoa(String.fromCharCode(...mac))}`;
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
  if (!header) return rejected('missing');
  if (!LOGTO_SIGNATURE.test(header)) return rejected('malformed');
  return anyVerifies(
    signingKeys.map((secret) => ({ secret })),
    [hexToBytes(header)],
    rawBody,
  );
}
