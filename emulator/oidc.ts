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

export interface OidcOptions {
  issuer: string;
  resource: string;
  algorithm: SigningAlgorithm;
  tokenTtlSeconds: number;
  now: () => number;
  apps: Map<string, EmulatedApp>;
  /** Other API resources (custom APIs registered in Logto) tokens can be requested for; no `all` scope on those. */
  apiResources: string[];
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

  const app = new Hono();
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
