import { errors, type JWTPayload, jwtVerify } from 'jose';
import type { JwtAlgorithm } from '../config';
import type { TokenCheck } from './errors';
import { type JwksKeyResolver, JwksUnavailableError } from './jwks';

export interface TokenVerifierOptions {
  /** The tenant's keys (a per-isolate {@link createJwksCache}). */
  keys: JwksKeyResolver;
  /** Expected `iss`: `{endpoint}/oidc`. */
  issuer: string;
  /** Expected `aud`: the Management API indicator. */
  audience: string;
  /** Expected `sub`: the M2M app ID (Logto sets `sub` = `client_id` for client credentials). */
  subject: string;
  algorithms: JwtAlgorithm[];
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

function classify(error: unknown): { check: TokenCheck; detail: string } {
  if (error instanceof JwksUnavailableError)
    return { check: 'jwks_unavailable', detail: 'JWKS could not be fetched' };
  if (error instanceof errors.JWTExpired) return { check: 'expired', detail: 'exp is not in the future' };
  if (error instanceof errors.JWTClaimValidationFailed) {
    const check = CLAIM_CHECKS[error.claim] ?? 'malformed';
    return { check, detail: `claim "${error.claim}" does not match (${error.reason})` };
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return { check: 'algorithm', detail: 'alg is not allowed' };
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return { check: 'signature', detail: 'bad signature' };
  if (error instanceof errors.JWKSNoMatchingKey)
    return { check: 'signature', detail: 'no JWKS key matches kid' };
  if (error instanceof errors.JOSEError) return { check: 'malformed', detail: error.code };
  return { check: 'malformed', detail: 'not a verifiable JWT' };
}

/**
 * Builds a verifier for Logto M2M access tokens. Checks: `typ` = at+jwt, allowed `alg`, signature against the
 * tenant's JWKS, `iss`, `aud`, `sub` = app ID, `exp` in the future, `scope` containing `all`. Used on every token
 * fetched from Logto and again on every token read back from KV (a tampered KV entry is never used).
 */
export function createTokenVerifier(options: TokenVerifierOptions): (token: string) => Promise<TokenVerdict> {
  return async (token) => {
    try {
      const { payload } = await jwtVerify(token, options.keys, {
        algorithms: options.algorithms,
        issuer: options.issuer,
        audience: options.audience,
        subject: options.subject,
        typ: 'at+jwt',
        currentDate: new Date(options.now()),
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
