import { jwtVerify } from 'jose';
import type { JwtAlgorithm } from '../config';
import { createJwksCache, JwksUnavailableError } from '../kv-token-cache';

export interface AdminAuthOptions {
  /** `{endpoint}/oidc/jwks` of the Logto tenant that issues admin tokens. */
  jwksUrl: string;
  issuer: string;
  /** ADMIN_API_RESOURCE: the `aud` admin tokens must carry. */
  audience: string;
  /** ADMIN_APP_IDS: the only `sub` values allowed (M2M apps: `sub` = client ID). */
  appIds: string[];
  algorithms: JwtAlgorithm[];
  fetch: typeof fetch;
  now: () => number;
}

/** 503: Logto's key set could not be read (a token cannot be judged, so it is not called bad). */
export type AdminVerdict = { ok: true; appId: string } | { ok: false; status: 401 | 403 | 503 };

/**
 * Checks `Authorization: Bearer <Logto access token>` for the admin API: signature from the tenant's JWKS (allow-listed
 * algorithms, `typ` at+jwt), `iss`, `aud` = ADMIN_API_RESOURCE, `exp`; then `sub` ∈ ADMIN_APP_IDS. A missing or bad
 * token → 401; a valid token of another app → 403. The reason is never told to the caller.
 */
export function createAdminVerifier(options: AdminAuthOptions) {
  // Values only (never a fetch shared across requests: the runtime rule); an unknown kid refetches at most every 30 s.
  const jwks = createJwksCache({
    url: options.jwksUrl,
    fetch: options.fetch,
    now: options.now,
    refetchCooldownMs: 30_000,
  });
  return async (authorization: string | undefined): Promise<AdminVerdict> => {
    // RFC 7235: the scheme is case-insensitive.
    const match = /^Bearer +([A-Za-z0-9._~+/-]+=*)$/i.exec(authorization ?? '');
    if (!match?.[1]) return { ok: false, status: 401 };
    try {
      const { payload } = await jwtVerify(match[1], jwks, {
        algorithms: options.algorithms,
        issuer: options.issuer,
        audience: options.audience,
        typ: 'at+jwt',
        currentDate: new Date(options.now()),
        requiredClaims: ['exp', 'sub'],
      });
      const appId = String(payload.sub);
      return options.appIds.includes(appId) ? { ok: true, appId } : { ok: false, status: 403 };
    } catch (error) {
      return { ok: false, status: error instanceof JwksUnavailableError ? 503 : 401 };
    }
  };
}
