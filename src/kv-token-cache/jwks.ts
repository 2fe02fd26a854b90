import type { JSONWebKeySet, JWK, JWTHeaderParameters } from 'jose';
import { AppError } from '../errors';
import { DEFAULT_RETRY_POLICY, fetchWithTimeout, realSleep, withRetries } from '../http-retry';
import { createValueFlight } from '../value-flight';

/** The key set could not be fetched (after retries) or was not a key set. Retryable: Logto may be back soon. */
export class JwksUnavailableError extends AppError {
  override readonly name = 'JwksUnavailableError';
  constructor(message: string) {
    super('jwks_unavailable', message, { httpStatus: 503, retryable: true });
  }
}

export interface JwksCacheOptions {
  /** `{endpoint}/oidc/jwks`. */
  url: string;
  fetch: typeof fetch;
  now: () => number;
  /** Least time between two fetches caused by an unknown `kid` (key rotation). Default 0: refetch on every miss. */
  refetchCooldownMs?: number;
}

/** No key of the set matches the token's `kid` and `alg` (after a refetch): the token is not Logto's. */
export class JwksNoMatchingKeyError extends Error {
  override readonly name = 'JwksNoMatchingKeyError';
  constructor() {
    super('no key in the JWKS matches the token');
  }
}

/** WebCrypto import parameters of the algorithms a Logto tenant signs with (SUPPORTED_JWT_ALGORITHMS). */
const KEY_PARAMS: Record<string, Parameters<SubtleCrypto['importKey']>[2]> = {
  ES256: { name: 'ECDSA', namedCurve: 'P-256' },
  ES384: { name: 'ECDSA', namedCurve: 'P-384' },
  ES512: { name: 'ECDSA', namedCurve: 'P-521' },
  RS256: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
};

/** Resolves a JWT's verification key for jose's `jwtVerify`. */
export type JwksKeyResolver = (header: JWTHeaderParameters) => Promise<CryptoKey>;

const KTY_OF: Record<string, string> = { ES: 'EC', RS: 'RSA', PS: 'RSA', Ed: 'OKP' };

function pick(set: JSONWebKeySet | undefined, header: JWTHeaderParameters): JWK | undefined {
  const kty = KTY_OF[header.alg.slice(0, 2)];
  return set?.keys.find(
    (key) =>
      (header.kid === undefined || key.kid === header.kid) &&
      key.kty === kty &&
      (key.alg === undefined || key.alg === header.alg) &&
      (key.use === undefined || key.use === 'sig'),
  );
}

const isKeySet = (value: unknown): value is JSONWebKeySet =>
  typeof value === 'object' && value !== null && Array.isArray((value as JSONWebKeySet).keys);

/**
 * A per-isolate JWKS cache that holds values only — the key set and imported keys, never a pending fetch or import
 * (see src/value-flight). A token whose `kid` is unknown causes one refetch (Logto rotated its keys). 5xx and 429 answers,
 * timeouts and network errors are retried with backoff; what is left is a {@link JwksUnavailableError}, which the
 * token checks report as `jwks_unavailable` (retryable), never as a bad token.
 */
export function createJwksCache(options: JwksCacheOptions): JwksKeyResolver {
  const flight = createValueFlight();
  let current: { set: JSONWebKeySet; at: number } | undefined;
  const imported = new Map<string, CryptoKey>();

  /**
   * Fetches the key set (10 s per attempt): 5xx, 429, timeouts and lost connections are retried with the default
   * policy, and what is left is unavailable.
   */
  const load = async (): Promise<JSONWebKeySet> => {
    const set = await withRetries(
      DEFAULT_RETRY_POLICY,
      realSleep,
      async () => {
        const response = await fetchWithTimeout(
          options.fetch,
          new Request(options.url, { headers: { accept: 'application/json' } }),
          10_000,
        );
        const body: unknown = response.ok
          ? await response.json().catch(() => undefined)
          : await response.body?.cancel();
        if (isKeySet(body)) return body;
        throw response; // a refusal, or a 2xx that is not a key set: its status says whether asking again can help
      },
      (error) => !(error instanceof Response) || error.status >= 500 || error.status === 429,
    ).catch(() => {
      throw new JwksUnavailableError('the JWKS could not be fetched');
    });
    current = { set, at: options.now() };
    return set;
  };

  return async (header) => {
    let jwk = pick(current?.set, header);
    const cooled = !current || options.now() - current.at >= (options.refetchCooldownMs ?? 0);
    if (!jwk && cooled) {
      const seen = current;
      // Another caller may be refetching already: take its value when it lands.
      const set = await flight.get(() => (current !== seen ? current?.set : undefined), load);
      jwk = pick(set, header);
    }
    const params = KEY_PARAMS[header.alg];
    if (!jwk || !params) throw new JwksNoMatchingKeyError();
    const id = `${jwk.kid ?? ''}|${header.alg}|${jwk.x ?? jwk.n ?? ''}`;
    const cached = imported.get(id);
    if (cached) return cached;
    // jwtVerify still checks that the key's algorithm is the header's (jose's importJWK is not needed for that).
    const { alg: _alg, use: _use, key_ops: _ops, ...material } = jwk;
    const key = await crypto.subtle.importKey('jwk', material as JsonWebKey, params, false, ['verify']);
    imported.set(id, key);
    return key;
  };
}
