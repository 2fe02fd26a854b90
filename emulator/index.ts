import { Hono } from 'hono';
import { dataEvents } from './data-events';
import { createFaults, DroppedConnection, type RateLimit } from './faults';
import { generateId, logtoError } from './http';
import { mountHookRoutes } from './management-hooks';
import { mountOrganizationRoutes } from './management-organizations';
import { mountUserRoutes, newUser } from './management-users';
import { createOidc, type SigningAlgorithm } from './oidc';
import { createStore, type EmulatedApp, type EmulatedUser } from './store';
import { createWebhookSender, type HookInput, interactionUser } from './webhooks';

export type { FaultRule, RateLimit } from './faults';
export type { SigningAlgorithm, TokenFaults } from './oidc';
export type * from './store';
export type { Delivery, EmulatedHook, HookInput, HookLogEntry } from './webhooks';

export interface LogtoEmulatorOptions {
  /** The origin the emulator believes it serves (issuer = `{endpoint}/oidc`). Default `http://logto.test`. */
  endpoint?: string;
  /** Management API indicator. Default the OSS one, `https://default.logto.app/api`. */
  resource?: string;
  /** Custom API resources (API identifiers) tokens may be requested for, e.g. the Worker's admin API. */
  apiResources?: string[];
  /** M2M apps. Default one app `m2m-app` / `m2m-secret` holding the `all` scope. */
  apps?: EmulatedApp[];
  algorithm?: SigningAlgorithm;
  tokenTtlSeconds?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Seed for probabilistic faults. */
  seed?: number;
  rateLimit?: RateLimit;
  /** Webhooks to send (like hooks configured in Logto Console). More can be added with `webhooks.add`. */
  hooks?: HookInput[];
  /** How webhooks are delivered; default the global fetch. Tests pass the Worker's fetch. */
  deliver?: typeof fetch;
}

/** A simulated sign-up through the Experience API (the `application` the user signs up through). */
export interface SignUpInput {
  username?: string;
  primaryEmail?: string;
  name?: string;
  identities?: EmulatedUser['identities'];
  application?: { id: string; type: string; name: string; description: string | null };
  userAgent?: string;
  /** Stop after identification (the user exists, `User.Created` fires, the sign-up is never submitted). */
  abandon?: boolean;
}

const DEFAULT_APPLICATION = { id: 'spa-app', type: 'SPA', name: 'Sign-in app', description: null };

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
    apiResources: options.apiResources ?? [],
    // The sign-in form: a user by ID (the code exchange), username or email.
    findUser: (identifier) =>
      store.users.get(identifier) ??
      [...store.users.values()].find(
        (user) =>
          user.username === identifier || user.primaryEmail?.toLowerCase() === identifier.toLowerCase(),
      ),
  });
  const faults = createFaults({ now, sleep, seed: options.seed ?? 1 });
  const webhooks = createWebhookSender({ deliver: options.deliver, now });
  for (const hook of options.hooks ?? []) webhooks.add(hook);
  const iso = () => new Date(now()).toISOString();
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
  api.use(
    '*',
    dataEvents((payload) => webhooks.emit(payload), iso),
  );
  mountUserRoutes(api, {
    store,
    now,
    // Management API context, as in the real capture user-created-management-api.json.
    onUserCreated: (user, c) =>
      void webhooks.emit({
        event: 'User.Created',
        createdAt: iso(),
        userAgent: c.req.header('user-agent') ?? '',
        ip: '127.0.0.1',
        path: '/users',
        method: 'POST',
        status: 200,
        params: {},
        matchedRoute: '/users',
        data: user,
      }),
  });
  mountOrganizationRoutes(api, { store, now });
  mountHookRoutes(api, { webhooks, now });

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
    webhooks,
    /**
     * Simulates a sign-up through the Experience API: creates the user, then sends `User.Created` (at identification)
     * and `PostRegister` (at submit), in that order, with the shapes of the real captures. Resolves with the user once
     * both deliveries were answered.
     */
    async signUp(input: SignUpInput = {}): Promise<EmulatedUser> {
      const application = input.application ?? DEFAULT_APPLICATION;
      // A real Logto leaves the user's applicationId null after an Experience API sign-up (reference §0.1): only
      // the event's top-level applicationId and the audit log name the application.
      const user = newUser(
        { username: input.username ?? `user_${generateId(8)}`, ...input, applicationId: null },
        now(),
      );
      user.hasPassword = true;
      store.users.set(user.id, user);
      const sessionId = generateId(43);
      const userAgent = input.userAgent ?? 'Mozilla/5.0 (emulated browser)';
      const created = {
        event: 'User.Created',
        createdAt: iso(),
        interactionEvent: 'Register',
        userAgent,
        applicationId: application.id,
        sessionId,
        ip: '127.0.0.1',
        application,
        data: interactionUser(user),
      };
      const audit = (key: string) =>
        store.logs.push({
          id: generateId(21),
          key,
          payload: {
            key,
            result: 'Success',
            userId: user.id,
            applicationId: application.id,
            interaction: { interactionEvent: 'Register' },
          },
          createdAt: now(),
        });
      audit('Interaction.Register.Identifier.Submit');
      if (input.abandon) {
        // Abandoned after identification: the user exists and User.Created fires; no Register.Submit, no PostRegister.
        await webhooks.emit(created);
        return user;
      }
      audit('Interaction.Register.Submit');
      user.lastSignInAt = now();
      user.updatedAt = now();
      const registered = {
        event: 'PostRegister',
        interactionEvent: 'Register',
        createdAt: iso(),
        sessionId,
        userAgent,
        userId: user.id,
        userIp: '127.0.0.1',
        user: interactionUser(user),
        application,
      };
      await webhooks.emit(created, registered);
      return user;
    },
    setTokenFaults: oidc.setTokenFaults,
    rotateKeys: oidc.rotateKeys,
    currentKid: oidc.currentKid,
    tokenRequests: oidc.tokenRequests,
  };
}

export type LogtoEmulator = Awaited<ReturnType<typeof createLogtoEmulator>>;
