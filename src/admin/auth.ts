import { type JWTPayload, jwtVerify } from 'jose';
import type { LogtoConfig } from '../config';
import { createJwksCache, type JwksKeyResolver, JwksUnavailableError } from '../kv-token-cache';

/** The Logto tenant whose tokens are checked (its origin, `iss` and allow-listed algorithms), with fetch and clock. */
export type LogtoIssuer = Pick<LogtoConfig, 'endpoint' | 'issuer' | 'algorithms'> & {
  fetch: typeof fetch;
  now: () => number;
};

/** Per isolate, per Logto endpoint: its key set (values only, never a fetch shared across requests: the runtime rule). */
const jwksByEndpoint = new Map<string, JwksKeyResolver>();

/**
 * Checks a JWT the tenant signed, with jose: signature from `{endpoint}/oidc/jwks` (allow-listed algorithms; an
 * unknown kid refetches at most every 30 s), `iss`, `aud` = `audience`, `exp`, a `sub`, and `typ` when given. Returns
 * the claims; throws jose's error, or {@link JwksUnavailableError} when the key set could not be read.
 */
export async function verifyLogtoJwt(
  token: string,
  logto: LogtoIssuer,
  audience: string,
  typ?: string,
): Promise<JWTPayload> {
  let jwks = jwksByEndpoint.get(logto.endpoint);
  if (!jwks) {
    jwks = createJwksCache({
      url: `${logto.endpoint}/oidc/jwks`,
      fetch: logto.fetch,
      now: logto.now,
      refetchCooldownMs: 30_000,
    });
    jwksByEndpoint.set(logto.endpoint, jwks);
  }
  const { payload } = await jwtVerify(token, jwks, {
    algorithms: logto.algorithms,
    issuer: logto.issuer,
    audience,
    typ,
    currentDate: new Date(logto.now()),
    requiredClaims: ['exp', 'sub'],
  });
  return payload;
}

/** 503: Logto's key set could not be read (a token cannot be judged, so it is not called bad). */
export type AdminVerdict = { ok: true; appId: string } | { ok: false; status: 401 | 403 | 503 };

/**
 * Checks `Authorization: Bearer <Logto access token>` for the admin API with {@link verifyLogtoJwt} (`typ` at+jwt,
 * `aud` = ADMIN_API_RESOURCE); then `sub` ∈ ADMIN_APP_IDS (M2M apps: `sub` = client ID). A missing or bad token →
 * 401; a valid token of another app → 403. The reason is never told to the caller.
 */
export async function checkAdminToken(
  authorization: string | undefined,
  logto: LogtoIssuer,
  admin: { resource: string; appIds: string[] },
): Promise<AdminVerdict> {
  // RFC 7235: the scheme is case-insensitive.
  const match = /^Bearer +([A-Za-z0-9._~+/-]+=*)$/i.exec(authorization ?? '');
  if (!match?.[1]) return { ok: false, status: 401 };
  try {
    const appId = String((await verifyLogtoJwt(match[1], logto, admin.resource, 'at+jwt')).sub);
    return admin.appIds.includes(appId) ? { ok: true, appId } : { ok: false, status: 403 };
  } catch (error) {
    return { ok: false, status: error instanceof JwksUnavailableError ? 503 : 401 };
  }
}
