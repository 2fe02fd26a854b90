import { Hono } from 'hono';
import { createFaults, DroppedConnection, type RateLimit } from './faults';
import { logtoError } from './http';
import { mountOrganizationRoutes } from './management-organizations';
import { mountUserRoutes } from './management-users';
import { createOidc, type SigningAlgorithm } from './oidc';
import { createStore, type EmulatedApp } from './store';

export type { FaultRule, RateLimit } from './faults';
export type { SigningAlgorithm, TokenFaults } from './oidc';
export type * from './store';

export interface LogtoEmulatorOptions {
  /** The origin the emulator believes it serves (issuer = `{endpoint}/oidc`). Default `http://logto.test`. */
  endpoint?: string;
  /** Management API indicator. Default the OSS one, `https://default.logto.app/api`. */
  resource?: string;
  /** M2M apps. Default one app `m2m-app` / `m2m-secret` holding the `all` scope. */
  apps?: EmulatedApp[];
  algorithm?: SigningAlgorithm;
  tokenTtlSeconds?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Seed for probabilistic faults. */
  seed?: number;
  rateLimit?: RateLimit;
}

export const DEFAULT_EMULATOR_APP: EmulatedApp = { id: 'm2m-app', secret: 'm2m-secret', hasAllScope: true };

/**
 * Starts an in-memory Logto that speaks Logto's HTTP contract for what this project uses: `/oidc/token`,
 * `/oidc/jwks`, ES384 `at+jwt` tokens with Logto's claims, and the Management API routes for users, roles and
 * organizations with Logto's status codes, error bodies, idempotency rules and pagination headers. Runs anywhere
 * Hono runs: in workerd (tests call `emulator.fetch` in-process) or in Node (`emulator/serve.ts`).
 */
export async function createLogtoEmulator(options: LogtoEmulatorOptions = {}) {
  const endpoint = (options.endpoint ?? 'http://logto.test').replace(/\/+$/, '');
  const resource = options.resource ?? 'https://default.logto.app/api';
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const store = createStore();
  for (const app of options.apps ?? [DEFAULT_EMULATOR_APP]) store.apps.set(app.id, { ...app });
  const oidc = await createOidc({
    issuer: `${endpoint}/oidc`,
    resource,
    algorithm: options.algorithm ?? 'ES384',
    tokenTtlSeconds: options.tokenTtlSeconds ?? 3600,
    now,
    apps: store.apps,
  });
  const faults = createFaults({ now, sleep, seed: options.seed ?? 1 });
  if (options.rateLimit) faults.setRateLimit(options.rateLimit);

  const api = new Hono();
  api.use('*', async (c, next) => {
    const header = c.req.header('authorization');
    if (!header)
      return logtoError(c, 401, 'auth.authorization_header_missing', 'Authorization header is missing.');
    if (!header.startsWith('Bearer ')) {
      return logtoError(
        c,
        401,
        'auth.authorization_token_type_not_supported',
        'Authorization type is not supported.',
      );
    }
    const verdict = await oidc.verifyAccessToken(header.slice(7));
    if (!verdict.ok) return logtoError(c, 401, 'auth.unauthorized', 'Unauthorized.', { code: verdict.code });
    if (!verdict.scope.split(' ').includes('all')) return logtoError(c, 403, 'auth.forbidden', 'Forbidden.');
    await next();
  });
  mountUserRoutes(api, { store, now });
  mountOrganizationRoutes(api, { store, now });

  const app = new Hono();
  app.use('*', faults.middleware);
  app.route('/', oidc.app);
  app.route('/api', api);
  app.notFound((c) => logtoError(c, 404, 'guard.not_found', 'Not found.'));
  app.onError((error, c) => {
    if (error instanceof DroppedConnection) throw error;
    return logtoError(c, 500, 'unknown', 'Internal server error.');
  });

  return {
    endpoint,
    resource,
    issuer: `${endpoint}/oidc`,
    app,
    store,
    faults,
    /** Serves one request in-process: pass as `fetch` to the token cache and the client. */
    fetch: (input: RequestInfo | URL, init?: RequestInit): Promise<Response> =>
      Promise.resolve(app.fetch(new Request(input, init))),
    setTokenFaults: oidc.setTokenFaults,
    rotateKeys: oidc.rotateKeys,
    currentKid: oidc.currentKid,
    tokenRequests: oidc.tokenRequests,
  };
}

export type LogtoEmulator = Awaited<ReturnType<typeof createLogtoEmulator>>;
