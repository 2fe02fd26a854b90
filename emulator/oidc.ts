import { type Context, Hono } from 'hono';
import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  type JWK,
  type JWTPayload,
  jwtVerify,
  SignJWT,
} from 'jose';
import type { EmulatedApp } from './store';

export type SigningAlgorithm = 'ES256' | 'ES384' | 'ES512' | 'RS256';

/** Ways to make the next issued tokens wrong, one check at a time. */
export interface TokenFaults {
  wrongSubject?: boolean;
  wrongAudience?: boolean;
  wrongIssuer?: boolean;
  expired?: boolean;
  missingScope?: boolean;
  /** Signed by a key that is not in the JWKS, under a `kid` that is. */
  badSignature?: boolean;
  wrongType?: boolean;
}

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

/** A pending authorization code (60 s, single use), as oidc-provider keeps it. */
interface AuthorizationCode {
  clientId: string;
  redirectUri: string;
  userId: string;
  nonce: string | null;
  challenge: string;
  expiresAt: number;
}

/** What the sign-in form knows of a user: enough to put the claims in an ID token. */
export interface SignInUser {
  id: string;
  username: string | null;
  name: string | null;
  primaryEmail: string | null;
}

const base64url = (bytes: ArrayBuffer) =>
  btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

export interface OidcOptions {
  issuer: string;
  resource: string;
  algorithm: SigningAlgorithm;
  tokenTtlSeconds: number;
  now: () => number;
  apps: Map<string, EmulatedApp>;
  /** Other API resources (custom APIs registered in Logto) tokens can be requested for; no `all` scope on those. */
  apiResources: string[];
  /** The user a sign-in form's identifier (username or email) names, for the authorization code flow. */
  findUser?: (identifier: string) => SignInUser | undefined;
}

async function createSigningKey(algorithm: SigningAlgorithm): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(algorithm, { extractable: true });
  const jwk = await exportJWK(publicKey);
  // Logto's kid: base64url SHA-256 over the public members (L utils/jwks.ts), i.e. the RFC 7638 thumbprint.
  const kid = await calculateJwkThumbprint(jwk);
  return { kid, privateKey, publicJwk: { ...jwk, kid, alg: algorithm, use: 'sig' } };
}

function oauthError(c: Context, status: 400 | 401, error: string, description: string, basic = false) {
  if (status === 401 && basic) c.header('WWW-Authenticate', `Basic realm="${new URL(c.req.url).origin}"`);
  c.header('Cache-Control', 'no-store');
  return c.json(
    { error, error_description: description, code: `oidc.${error}`, message: description },
    status,
  );
}

/** Parses client authentication like oidc-provider: Basic (URL-decoded) or client_secret_post, never both. */
function readClient(
  c: Context,
  form: URLSearchParams,
): { id?: string; secret?: string; basic: boolean; both: boolean } {
  const header = c.req.header('authorization') ?? '';
  const inBody = form.has('client_id') || form.has('client_secret');
  if (header.toLowerCase().startsWith('basic ')) {
    const decoded = atob(header.slice(6).trim());
    const colon = decoded.indexOf(':');
    const id = decodeURIComponent(decoded.slice(0, colon));
    const secret = decodeURIComponent(decoded.slice(colon + 1));
    return { id, secret, basic: true, both: inBody };
  }
  return {
    id: form.get('client_id') ?? undefined,
    secret: form.get('client_secret') ?? undefined,
    basic: false,
    both: false,
  };
}

/** The OIDC part of the emulator: `/oidc/token` (client_credentials), `/oidc/jwks`, and access-token checks. */
export async function createOidc(options: OidcOptions) {
  let keys: SigningKey[] = [await createSigningKey(options.algorithm)];
  // Rebuilt only when the keys change, so each API request does not re-import every public key.
  const publicKeySet = () => createLocalJWKSet({ keys: keys.map((key) => key.publicJwk) });
  let jwks = publicKeySet();
  const strayKey = await createSigningKey(options.algorithm);
  let faults: TokenFaults = {};
  /** What each token request looked like on the wire (no secrets), for contract tests. */
  const tokenRequests: {
    auth: 'basic' | 'post' | 'none';
    grantType: string | null;
    resource: string | null;
    scope: string | null;
  }[] = [];

  async function issue(app: EmulatedApp, resource: string): Promise<string> {
    const management = resource === options.resource;
    const [key] = keys;
    if (!key) throw new Error('no signing key');
    const iat = Math.floor(options.now() / 1000) - (faults.expired ? 2 * options.tokenTtlSeconds : 0);
    const payload: JWTPayload = { jti: crypto.randomUUID(), client_id: app.id };
    if (management && app.hasAllScope && !faults.missingScope) payload.scope = 'all';
    return new SignJWT(payload)
      .setProtectedHeader({ alg: options.algorithm, typ: faults.wrongType ? 'JWT' : 'at+jwt', kid: key.kid })
      .setIssuedAt(iat)
      .setExpirationTime(iat + options.tokenTtlSeconds)
      .setIssuer(faults.wrongIssuer ? 'https://evil.example/oidc' : options.issuer)
      .setAudience(faults.wrongAudience ? 'https://other.example/api' : resource)
      .setSubject(faults.wrongSubject ? 'another-app-id' : app.id)
      .sign(faults.badSignature ? strayKey.privateKey : key.privateKey);
  }

  const codes = new Map<string, AuthorizationCode>();

  /**
   * `grant_type=authorization_code` (oidc-provider): the client (a secret for a web app, none for an SPA), the code
   * (single use, 60 s, same redirect_uri) and the PKCE verifier (S256) → an ID token for the client and an access
   * token.
   */
  async function exchangeCode(c: Context, form: URLSearchParams, client: ReturnType<typeof readClient>) {
    const registered = client.id ? options.apps.get(client.id) : undefined;
    if (!registered?.redirectUris || (registered.secret !== '' && registered.secret !== client.secret))
      return oauthError(c, 401, 'invalid_client', 'client authentication failed', client.basic);
    const code = codes.get(form.get('code') ?? '');
    codes.delete(form.get('code') ?? '');
    if (!code || code.clientId !== registered.id || code.expiresAt < options.now())
      return oauthError(c, 400, 'invalid_grant', 'grant request is invalid');
    if (code.redirectUri !== form.get('redirect_uri'))
      return oauthError(c, 400, 'invalid_grant', 'grant request is invalid');
    const verifier = form.get('code_verifier') ?? '';
    const digest = base64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
    if (!verifier || digest !== code.challenge)
      return oauthError(c, 400, 'invalid_grant', 'PKCE verification failed');
    const [key] = keys;
    if (!key) throw new Error('no signing key');
    const user = options.findUser?.(code.userId);
    const iat = Math.floor(options.now() / 1000);
    const claims: JWTPayload = {
      ...(code.nonce ? { nonce: code.nonce } : {}),
      username: user?.username ?? null,
      name: user?.name ?? null,
      email: user?.primaryEmail ?? null,
    };
    const idToken = await new SignJWT(claims)
      .setProtectedHeader({ alg: options.algorithm, typ: 'JWT', kid: key.kid })
      .setIssuedAt(iat)
      .setExpirationTime(iat + 3600)
      .setIssuer(options.issuer)
      .setAudience(registered.id)
      .setSubject(code.userId)
      .sign(key.privateKey);
    c.header('Cache-Control', 'no-store');
    return c.json({
      access_token: crypto.randomUUID(),
      id_token: idToken,
      expires_in: 3600,
      token_type: 'Bearer',
      scope: 'openid profile email',
    });
  }

  const app = new Hono();
  /**
   * The authorization endpoint with a plain sign-in form (the emulator's stand-in for Logto's sign-in experience):
   * `response_type=code`, a registered `redirect_uri`, PKCE S256 required. The form's identifier is a username or
   * email of an existing user.
   */
  app.on(['GET', 'POST'], '/oidc/auth', async (c) => {
    const params =
      c.req.method === 'POST'
        ? new URLSearchParams(new TextDecoder().decode(await c.req.arrayBuffer()))
        : new URL(c.req.url).searchParams;
    const client = options.apps.get(params.get('client_id') ?? '');
    const redirectUri = params.get('redirect_uri') ?? '';
    if (!client?.redirectUris?.includes(redirectUri))
      return c.text('invalid_request: unknown client or redirect_uri', 400);
    const back = (query: Record<string, string>) => {
      const url = new URL(redirectUri);
      for (const [name, value] of Object.entries({ ...query, state: params.get('state') ?? '' }))
        url.searchParams.set(name, value);
      return c.redirect(url.toString(), 303);
    };
    if (params.get('response_type') !== 'code') return back({ error: 'unsupported_response_type' });
    const challenge = params.get('code_challenge');
    if (!challenge || params.get('code_challenge_method') !== 'S256')
      return back({ error: 'invalid_request', error_description: 'PKCE S256 is required' });
    const identifier = params.get('identifier');
    const user = identifier ? options.findUser?.(identifier) : undefined;
    if (c.req.method === 'POST' && user) {
      const code = crypto.randomUUID().replaceAll('-', '');
      codes.set(code, {
        clientId: client.id,
        redirectUri,
        userId: user.id,
        nonce: params.get('nonce'),
        challenge,
        expiresAt: options.now() + 60_000,
      });
      return back({ code, iss: options.issuer });
    }
    const hidden = [...params.entries()]
      .filter(([name]) => name !== 'identifier')
      .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
      .join('');
    const problem = c.req.method === 'POST' ? '<p role="alert">No such user.</p>' : '';
    return c.html(
      `<!doctype html><title>Sign in (Logto emulator)</title><h1>Sign in</h1>${problem}<form method="post">${hidden}` +
        `<label>Username or email <input name="identifier" autofocus></label> <button>Sign in</button></form>`,
    );
  });
  app.get('/oidc/jwks', (c) => {
    c.header('Cache-Control', 'no-cache, max-age=0, must-revalidate');
    return c.json({ keys: keys.map((key) => key.publicJwk) });
  });
  app.post('/oidc/token', async (c) => {
    const form = new URLSearchParams(new TextDecoder().decode(await c.req.arrayBuffer()));
    const client = readClient(c, form);
    tokenRequests.push({
      auth: client.basic ? 'basic' : client.id ? 'post' : 'none',
      grantType: form.get('grant_type'),
      resource: form.get('resource'),
      scope: form.get('scope'),
    });
    if (client.both) {
      return oauthError(
        c,
        400,
        'invalid_request',
        'client authentication must only be provided using one mechanism',
      );
    }
    if (!client.id)
      return oauthError(c, 400, 'invalid_request', 'no client authentication mechanism provided');
    if (form.get('grant_type') === 'authorization_code') return exchangeCode(c, form, client);
    const registered = options.apps.get(client.id);
    if (!registered || registered.secret !== client.secret) {
      return oauthError(c, 401, 'invalid_client', 'client authentication failed', client.basic);
    }
    if (form.get('grant_type') !== 'client_credentials') {
      return oauthError(c, 400, 'unsupported_grant_type', 'unsupported grant_type requested');
    }
    const resource = form.get('resource') ?? '';
    if (resource !== options.resource && !options.apiResources.includes(resource)) {
      return oauthError(c, 400, 'invalid_target', 'resource indicator is missing, or unknown');
    }
    const token = await issue(registered, resource);
    c.header('Cache-Control', 'no-store');
    const body: Record<string, unknown> = {
      access_token: token,
      expires_in: options.tokenTtlSeconds,
      token_type: 'Bearer',
    };
    if (resource === options.resource && registered.hasAllScope && !faults.missingScope) body.scope = 'all';
    return c.json(body);
  });

  return {
    app,
    /** Verifies a Bearer token as the Management API does: signature, `iss`, `aud`, expiry. */
    async verifyAccessToken(
      token: string,
    ): Promise<{ ok: true; scope: string } | { ok: false; code: string }> {
      try {
        const { payload } = await jwtVerify(token, jwks, {
          issuer: options.issuer,
          audience: options.resource,
          currentDate: new Date(options.now()),
        });
        return { ok: true, scope: typeof payload.scope === 'string' ? payload.scope : '' };
      } catch (error) {
        return { ok: false, code: (error as { code?: string }).code ?? 'ERR_JWT_INVALID' };
      }
    },
    setTokenFaults(next: TokenFaults) {
      faults = { ...next };
    },
    /** A new signing key becomes current; the old one stays in the JWKS unless `dropOld`. */
    async rotateKeys(rotation: { dropOld?: boolean } = {}) {
      const fresh = await createSigningKey(options.algorithm);
      keys = rotation.dropOld ? [fresh] : [fresh, ...keys];
      jwks = publicKeySet();
      return fresh.kid;
    },
    currentKid: () => keys[0]?.kid,
    tokenRequests: () => [...tokenRequests],
  };
}
