import { type LogtoIssuer, verifyLogtoJwt } from '../admin';
import { sha256Hex } from '../hash';
import { basicAuth } from '../kv-token-cache';
import type { ConsoleSettings } from './settings';

/** A signed-in operator. */
export interface Operator {
  userId: string;
  display: string;
  csrf: string;
  /** When the operator's access was last checked against the settings and Logto's roles. */
  checkedAt: number;
}

/** A session's access is checked again against Logto's roles this often (the ID list at every request). */
export const ACCESS_RECHECK_MS = 5 * 60_000;

/** Sessions last this long; signing in again is one redirect when Logto's own session is alive. */
export const SESSION_TTL_MS = 8 * 3_600_000;
export const SESSION_COOKIE = 'console_session';
export const LOGIN_COOKIE = 'console_login';

const base64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
export const randomToken = (bytes = 32) => base64url(crypto.getRandomValues(new Uint8Array(bytes)));

/** The PKCE challenge (S256) of a verifier. */
export async function challengeOf(verifier: string) {
  return base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
}

/** What the login step keeps in its short-lived cookie until the callback: state, PKCE verifier, nonce, target. */
export interface LoginState {
  state: string;
  verifier: string;
  nonce: string;
  next: string;
}

export const encodeLogin = (login: LoginState) => base64url(new TextEncoder().encode(JSON.stringify(login)));
export function decodeLogin(cookie: string | undefined): LoginState | undefined {
  if (!cookie) return undefined;
  try {
    const value = JSON.parse(atob(cookie.replace(/-/g, '+').replace(/_/g, '/'))) as LoginState;
    return [value.state, value.verifier, value.nonce, value.next].every((field) => typeof field === 'string')
      ? value
      : undefined;
  } catch {
    return undefined;
  }
}

/** Only same-console paths are followed after sign-in (never an absolute URL: no open redirect). */
export const safeNext = (next: string | undefined) =>
  next && /^\/console(?:[/?][\x21-\x7e]*)?$/.test(next) && !/\\|\/\//.test(next) ? next : '/console';

/**
 * Exchanges the authorization code (with the PKCE verifier) at Logto's token endpoint and checks the ID token with
 * jose ({@link verifyLogtoJwt}: signature from the JWKS, allow-listed algorithms, `iss`, `aud` = the console's client
 * ID, `exp`), then its `nonce`. Returns the user's ID and a display name, or why not (never the token).
 */
export async function redeemCode(
  logto: LogtoIssuer,
  settings: ConsoleSettings,
  input: { code: string; redirectUri: string; verifier: string; nonce: string },
): Promise<{ ok: true; userId: string; display: string } | { ok: false; reason: string }> {
  const form = new URLSearchParams({
    grant_type: 'authorization_code',
    code: input.code,
    redirect_uri: input.redirectUri,
    code_verifier: input.verifier,
  });
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (settings.clientSecret) headers.authorization = basicAuth(settings.clientId, settings.clientSecret);
  else form.set('client_id', settings.clientId);
  let body: { id_token?: unknown; error?: unknown };
  try {
    const response = await logto.fetch(`${logto.endpoint}/oidc/token`, {
      method: 'POST',
      headers,
      body: form,
    });
    body = (await response.json().catch(() => ({}))) as typeof body;
    if (!response.ok)
      return { ok: false, reason: `Logto refused the code (${body.error ?? response.status})` };
  } catch {
    return { ok: false, reason: 'Logto could not be reached' };
  }
  if (typeof body.id_token !== 'string') return { ok: false, reason: 'Logto answered without an ID token' };
  try {
    const claims = await verifyLogtoJwt(body.id_token, logto, settings.clientId);
    if (claims.nonce !== input.nonce)
      return { ok: false, reason: 'the ID token does not answer this sign-in' };
    const userId = String(claims.sub);
    const display = [claims.name, claims.username, claims.email].find(
      (value): value is string => typeof value === 'string' && value.length > 0,
    );
    return { ok: true, userId, display: display ?? userId };
  } catch {
    return { ok: false, reason: 'the ID token did not pass its checks' };
  }
}

/** The `console_sessions` table: only the SHA-256 of the cookie's random ID is stored. */
export function createSessions(db: D1Database, now: () => number) {
  return {
    /** Opens a session for the user; returns the cookie's session ID. */
    async open(userId: string, display: string): Promise<string> {
      const id = randomToken();
      const csrf = randomToken(18);
      const at = now();
      await db.batch([
        db.prepare('DELETE FROM console_sessions WHERE expires_at < ?1').bind(at),
        db
          .prepare(
            'INSERT INTO console_sessions (session_hash, user_id, display, csrf, created_at, expires_at, checked_at) ' +
              'VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?5)',
          )
          .bind(await sha256Hex(id), userId, display.slice(0, 200), csrf, at, at + SESSION_TTL_MS),
      ]);
      return id;
    },
    async find(id: string | undefined): Promise<Operator | undefined> {
      if (!id || id.length > 100) return undefined;
      const row = await db
        .prepare(
          'SELECT user_id AS userId, display, csrf, checked_at AS checkedAt FROM console_sessions ' +
            'WHERE session_hash = ?1 AND expires_at > ?2',
        )
        .bind(await sha256Hex(id), now())
        .first<Operator>();
      return row ?? undefined;
    },
    /** Records that the session's access was checked now. */
    async checked(id: string): Promise<void> {
      await db
        .prepare('UPDATE console_sessions SET checked_at = ?2 WHERE session_hash = ?1')
        .bind(await sha256Hex(id), now())
        .run();
    },
    async close(id: string | undefined) {
      if (id)
        await db
          .prepare('DELETE FROM console_sessions WHERE session_hash = ?1')
          .bind(await sha256Hex(id))
          .run();
    },
  };
}
