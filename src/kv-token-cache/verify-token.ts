import { type JWTPayload, jwtVerify } from 'jose';
import type { JwtAlgorithm } from '../config';
import type { TokenCheck } from './errors';
import { createJwksCache, type JwksKeyResolver, JwksNoMatchingKeyError, JwksUnavailableError } from './jwks';

/** The tenant whose M2M tokens are checked (the token broker's and the token cache's own options). */
export interface TokenVerifierOptions {
  /** Logto origin; the keys come from `{endpoint}/oidc/jwks` unless `keys` is given. */
  endpoint: string;
  /** Expected `iss`: `{endpoint}/oidc`. */
  issuer: string;
  /** Expected `aud`: the Management API indicator. */
  resource: string;
  /** Expected `sub`: the M2M app ID (Logto sets `sub` = `client_id` for client credentials). */
  appId: string;
  /** Default ['ES384'], Logto's default signing key type. */
  algorithms?: JwtAlgorithm[];
  /** The JWKS resolver; default a per-isolate {@link createJwksCache} of `{endpoint}/oidc/jwks`. */
  keys?: JwksKeyResolver;
  /** For the JWKS. */
  fetch?: typeof fetch;
  /** Clock in epoch ms, for the `exp` check (and the JWKS cache). */
  now: () => number;
}

export type TokenVerdict =
  | { ok: true; claims: JWTPayload }
  | { ok: false; check: TokenCheck; detail: string };

const CLAIM_CHECKS: Record<string, TokenCheck> = {
  iss: 'issuer',
  aud: 'audience',
  sub: 'subject',
  typ: 'type',
};

/** jose's errors told apart by their `code` (importing jose's `errors` namespace bundles every error class). */
function classify(error: unknown): { check: TokenCheck; detail: string } {
  if (error instanceof JwksUnavailableError)
    return { check: 'jwks_unavailable', detail: 'JWKS could not be fetched' };
  if (error instanceof JwksNoMatchingKeyError)
    return { check: 'signature', detail: 'no JWKS key matches kid' };
  const { code, claim, reason } = (error ?? {}) as { code?: unknown; claim?: string; reason?: string };
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return { check: 'expired', detail: 'exp is not in the future' };
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      return {
        check: CLAIM_CHECKS[String(claim)] ?? 'malformed',
        detail: `claim "${claim}" does not match (${reason})`,
      };
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return { check: 'algorithm', detail: 'alg is not allowed' };
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return { check: 'signature', detail: 'bad signature' };
  }
  // Another of jose's errors names itself by its code; anything else was not a JWT at all.
  const named = typeof code === 'string' && /^ERR_J(OSE|WS|WT|WK)/.test(code);
  return { check: 'malformed', detail: named ? code : 'not a verifiable JWT' };
}

/**
 * Builds a verifier for Logto M2M access tokens. Checks: `typ` = at+jwt, allowed `alg`, signature against the
 * tenant's JWKS, `iss`, `aud`, `sub` = app ID, `exp` in the future, `scope` containing `all`. Used on every token
 * fetched from Logto and again on every token read back from KV (a tampered KV entry is never used).
 */
export function createTokenVerifier(options: TokenVerifierOptions): (token: string) => Promise<TokenVerdict> {
  const { now } = options;
  const keys =
    options.keys ??
    createJwksCache({
      url: `${options.endpoint}/oidc/jwks`,
      fetch: options.fetch ?? ((input, init) => fetch(input, init)),
      now,
    });
  return async (token) => {
    try {
      const { payload } = await jwtVerify(token, keys, {
        algorithms: options.algorithms ?? ['ES384'],
        issuer: options.issuer,
        audience: options.resource,
        subject: options.appId,
        typ: 'at+jwt',
        currentDate: new Date(now()),
        requiredClaims: ['exp', 'iat', 'sub'],
      });
      const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ') : [];
      if (!scopes.includes('all')) {
        return {
          ok: false,
          check: 'scope',
          detail: 'scope lacks "all": give the M2M app a Management API role',
        };
      }
      return { ok: true, claims: payload };
    } catch (error) {
      return { ok: false, ...classify(error) };
    }
  };
}
