import { decodeJwt, decodeProtectedHeader } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { createLogtoEmulator, DEFAULT_EMULATOR_APP, type LogtoEmulator } from '../emulator';
import { signLogtoBody } from '../emulator/webhooks';
import postRegister from './fixtures/logto-webhooks/post-register.json';
import userCreatedApi from './fixtures/logto-webhooks/user-created-management-api.json';

/**
 * The emulator must answer like a real Logto 1.42: every expectation below is a fact observed on a real server
 * (../shared/logto-reference.md §0) or read off a real capture (test/fixtures/logto-webhooks).
 */
const ENDPOINT = 'http://127.0.0.1:3001';
const basic = `Basic ${btoa(`${DEFAULT_EMULATOR_APP.id}:${DEFAULT_EMULATOR_APP.secret}`)}`;
const form = (fields: Record<string, string>) => new URLSearchParams(fields);
const TOKEN_FORM = {
  grant_type: 'client_credentials',
  resource: 'https://default.logto.app/api',
  scope: 'all',
};

describe('emulator vs a real Logto 1.42 (reference §0)', () => {
  let emulator: LogtoEmulator;
  let token: string;
  const api = (path: string, init: RequestInit = {}) =>
    emulator.fetch(`${ENDPOINT}/api${path}`, {
      ...init,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers },
    });

  beforeAll(async () => {
    emulator = await createLogtoEmulator({ endpoint: ENDPOINT });
    const response = await emulator.fetch(`${ENDPOINT}/oidc/token`, {
      method: 'POST',
      headers: { authorization: basic },
      body: form(TOKEN_FORM),
    });
    token = ((await response.json()) as { access_token: string }).access_token;
  });

  it('token response: fields, expires_in 3600, scope all, cache-control no-store', async () => {
    const response = await emulator.fetch(`${ENDPOINT}/oidc/token`, {
      method: 'POST',
      headers: { authorization: basic },
      body: form(TOKEN_FORM),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = (await response.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['access_token', 'expires_in', 'scope', 'token_type']);
    expect(body).toMatchObject({ expires_in: 3600, token_type: 'Bearer', scope: 'all' });
  });

  it('access token: ES384 at+jwt, 43-char kid, Logto’s claims', async () => {
    const header = decodeProtectedHeader(token);
    expect(header).toEqual({
      alg: 'ES384',
      typ: 'at+jwt',
      kid: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({
      iss: `${ENDPOINT}/oidc`,
      aud: 'https://default.logto.app/api',
      sub: DEFAULT_EMULATOR_APP.id,
      client_id: DEFAULT_EMULATOR_APP.id,
      scope: 'all',
    });
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(3600);
    expect(claims.jti).toEqual(expect.any(String));
  });

  it('JWKS: a single P-384 key whose kid matches', async () => {
    const response = await emulator.fetch(`${ENDPOINT}/oidc/jwks`);
    expect(response.headers.get('cache-control')).toBe('no-cache, max-age=0, must-revalidate');
    const { keys } = (await response.json()) as { keys: { kty: string; crv: string; kid: string }[] };
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: 'EC', crv: 'P-384', kid: decodeProtectedHeader(token).kid });
  });

  it('token errors: wrong secret 401 invalid_client with WWW-Authenticate; wrong resource 400 invalid_target; both auth methods 400', async () => {
    const wrongSecret = await emulator.fetch(`${ENDPOINT}/oidc/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${btoa(`${DEFAULT_EMULATOR_APP.id}:nope`)}` },
      body: form(TOKEN_FORM),
    });
    expect(wrongSecret.status).toBe(401);
    expect(wrongSecret.headers.get('www-authenticate')).toMatch(/^Basic/);
    expect(await wrongSecret.json()).toMatchObject({ error: 'invalid_client' });
    const wrongResource = await emulator.fetch(`${ENDPOINT}/oidc/token`, {
      method: 'POST',
      headers: { authorization: basic },
      body: form({ ...TOKEN_FORM, resource: 'https://x.example/api' }),
    });
    expect(wrongResource.status).toBe(400);
    expect(await wrongResource.json()).toMatchObject({ error: 'invalid_target' });
    const both = await emulator.fetch(`${ENDPOINT}/oidc/token`, {
      method: 'POST',
      headers: { authorization: basic },
      body: form({
        ...TOKEN_FORM,
        client_id: DEFAULT_EMULATOR_APP.id,
        client_secret: DEFAULT_EMULATOR_APP.secret,
      }),
    });
    expect(both.status).toBe(400);
    expect(await both.json()).toMatchObject({ error: 'invalid_request' });
    const post = await emulator.fetch(`${ENDPOINT}/oidc/token`, {
      method: 'POST',
      body: form({
        ...TOKEN_FORM,
        client_id: DEFAULT_EMULATOR_APP.id,
        client_secret: DEFAULT_EMULATOR_APP.secret,
      }),
    });
    expect(post.status).toBe(200);
  });

  it('API auth errors: no token → auth.authorization_header_missing; bad token → auth.unauthorized with ERR_JWS_INVALID', async () => {
    const none = await emulator.fetch(`${ENDPOINT}/api/users`);
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ code: 'auth.authorization_header_missing' });
    const bad = await emulator.fetch(`${ENDPOINT}/api/users`, {
      headers: { authorization: 'Bearer not-a-jwt' },
    });
    expect(bad.status).toBe(401);
    expect(await bad.json()).toMatchObject({ code: 'auth.unauthorized', data: { code: 'ERR_JWS_INVALID' } });
  });

  it('POST /api/users answers 200 with a user shaped like the captured webhook data', async () => {
    const response = await api('/users', {
      method: 'POST',
      body: JSON.stringify({ username: 'peer_user_1' }),
    });
    expect(response.status).toBe(200);
    const user = (await response.json()) as Record<string, unknown>;
    const captured = JSON.parse(userCreatedApi.rawBody).data as Record<string, unknown>;
    expect(Object.keys(user).sort()).toEqual(Object.keys(captured).sort());
    const interactionUser = JSON.parse(postRegister.rawBody).user as Record<string, unknown>;
    for (const key of Object.keys(interactionUser)) expect(user).toHaveProperty(key);
  });

  it('GET /api/users: Total-Number and one Link per relation, without the /api prefix; past the end → 200 []', async () => {
    await api('/users', { method: 'POST', body: JSON.stringify({ username: 'peer_user_2' }) });
    const response = await api('/users?page=1&page_size=1');
    expect(response.headers.get('total-number')).toBe('2');
    const links = response.headers.get('link')?.split(', ') ?? [];
    expect(links).toEqual([
      `<${ENDPOINT}/users?page=1&page_size=1>; rel="first"`,
      `<${ENDPOINT}/users?page=2&page_size=1>; rel="last"`,
      `<${ENDPOINT}/users?page=2&page_size=1>; rel="next"`,
    ]);
    const past = await api('/users?page=9&page_size=1');
    expect(past.status).toBe(200);
    expect(await past.json()).toEqual([]);
    expect((await api('/users?page_size=101')).status).toBe(400);
  });

  it('Management API quirks: roles twice → 201 + addedRoleIds []; unknown org member → 422; duplicate org names → 201 twice; unknown user → 404 entity.not_found', async () => {
    const role = (await (
      await api('/roles', { method: 'POST', body: JSON.stringify({ name: 'r1', description: 'r' }) })
    ).json()) as { id: string };
    const user = (await (
      await api('/users', { method: 'POST', body: JSON.stringify({ username: 'quirks' }) })
    ).json()) as { id: string };
    const assign = () =>
      api(`/users/${user.id}/roles`, { method: 'POST', body: JSON.stringify({ roleIds: [role.id] }) });
    expect((await assign()).status).toBe(201);
    const again = await assign();
    expect(again.status).toBe(201);
    expect(await again.json()).toEqual({ roleIds: [role.id], addedRoleIds: [] });
    const orgA = await api('/organizations', { method: 'POST', body: JSON.stringify({ name: 'Same' }) });
    const orgB = await api('/organizations', { method: 'POST', body: JSON.stringify({ name: 'Same' }) });
    expect([orgA.status, orgB.status]).toEqual([201, 201]);
    const { id: orgId } = (await orgA.json()) as { id: string };
    expect(orgId).toMatch(/^[a-z0-9]{12}$/);
    const unknown = await api(`/organizations/${orgId}/users`, {
      method: 'POST',
      body: JSON.stringify({ userIds: ['missing'] }),
    });
    expect(unknown.status).toBe(422);
    expect(await unknown.json()).toMatchObject({ code: 'entity.relation_foreign_key_not_found' });
    const missing = await api('/users/missing');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ code: 'entity.not_found' });
  });
});

describe('emulator vs a real Logto 1.42 (reference §0.1: sign-up vs API user, audit log, empty lists)', () => {
  let emulator: LogtoEmulator;
  let token: string;
  const delivered: Record<string, unknown>[] = [];
  const api = (path: string, init: RequestInit = {}) =>
    emulator.fetch(`${ENDPOINT}/api${path}`, {
      ...init,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers },
    });

  beforeAll(async () => {
    emulator = await createLogtoEmulator({
      endpoint: ENDPOINT,
      hooks: [{ url: 'http://receiver.test/hook', signingKey: 'k' }],
      deliver: async (input, init) => {
        delivered.push(JSON.parse(await new Request(input, init).text()));
        return new Response(null, { status: 204 });
      },
    });
    const response = await emulator.fetch(`${ENDPOINT}/oidc/token`, {
      method: 'POST',
      headers: { authorization: basic },
      body: form(TOKEN_FORM),
    });
    token = ((await response.json()) as { access_token: string }).access_token;
  });

  it('a signed-up user’s applicationId is null; only the experience User.Created’s top level names the app', async () => {
    const user = await emulator.signUp({ username: 'fact_user' });
    const stored = (await (await api(`/users/${user.id}`)).json()) as { applicationId: unknown };
    expect(stored.applicationId).toBeNull();
    const created = delivered.find((body) => body.event === 'User.Created') as {
      applicationId: string;
      data: { applicationId: unknown };
    };
    expect(created.applicationId).toBe('spa-app');
    expect(created.data.applicationId).toBeNull();
  });

  it('GET /api/logs?userId= has Interaction.Register.* for a sign-up (Identifier.Submit only when abandoned), nothing for an API user', async () => {
    const signedUp = await emulator.signUp({ username: 'audited' });
    const abandoned = await emulator.signUp({ username: 'abandoned', abandon: true });
    const apiUser = (await (
      await api('/users', { method: 'POST', body: JSON.stringify({ username: 'via_api' }) })
    ).json()) as {
      id: string;
    };
    const logsOf = async (userId: string) =>
      (await (await api(`/logs?userId=${userId}`)).json()) as {
        key: string;
        payload: Record<string, unknown>;
      }[];
    const logs = await logsOf(signedUp.id);
    expect(logs.map((entry) => entry.key)).toEqual([
      'Interaction.Register.Submit',
      'Interaction.Register.Identifier.Submit',
    ]);
    expect(logs[0]?.payload).toMatchObject({
      userId: signedUp.id,
      applicationId: 'spa-app',
      interaction: { interactionEvent: 'Register' },
    });
    expect((await logsOf(abandoned.id)).map((entry) => entry.key)).toEqual([
      'Interaction.Register.Identifier.Submit',
    ]);
    expect(await logsOf(apiUser.id)).toEqual([]);
    const abandonedEvents = delivered.filter((body) => (body.data as { id?: string })?.id === abandoned.id);
    expect(abandonedEvents.map((body) => body.event)).toEqual(['User.Created']);
  });

  it('GET /users/:id/organizations exists; an empty relation list answers 500 (1.42), and the client never sends one', async () => {
    const user = await emulator.signUp({ username: 'member_of' });
    const org = (await (
      await api('/organizations', { method: 'POST', body: JSON.stringify({ name: 'o' }) })
    ).json()) as {
      id: string;
    };
    await api(`/organizations/${org.id}/users`, {
      method: 'POST',
      body: JSON.stringify({ userIds: [user.id] }),
    });
    const orgs = (await (await api(`/users/${user.id}/organizations`)).json()) as { id: string }[];
    expect(orgs.map((item) => item.id)).toEqual([org.id]);
    const empty = await api(`/organizations/${org.id}/users/${user.id}/roles`, {
      method: 'POST',
      body: JSON.stringify({ organizationRoleIds: [] }),
    });
    expect(empty.status).toBe(500);
    expect(
      (await api(`/users/${user.id}/roles`, { method: 'POST', body: JSON.stringify({ roleIds: [] }) }))
        .status,
    ).toBe(500);
  });
});

describe('emulator vs a real Logto 1.42: hook routes (OpenAPI CreateHook, UpdateHook, UpdateHookSigningKey, DeleteHook; reference §1.5)', () => {
  let emulator: LogtoEmulator;
  let token: string;
  const delivered: { url: string; headers: Headers; body: string }[] = [];
  type HookBody = { id: string; signingKey: string; events: string[]; config: Record<string, unknown> };
  const api = (path: string, init: RequestInit = {}) =>
    emulator.fetch(`${ENDPOINT}/api${path}`, {
      ...init,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers },
    });
  const send = (method: string, path: string, body?: unknown) =>
    api(path, { method, body: body === undefined ? undefined : JSON.stringify(body) });
  const to = (url: string) => delivered.filter((item) => item.url === url);

  beforeAll(async () => {
    emulator = await createLogtoEmulator({
      endpoint: ENDPOINT,
      deliver: async (input, init) => {
        const request = new Request(input, init);
        delivered.push({ url: request.url, headers: request.headers, body: await request.text() });
        return new Response(null, { status: 204 });
      },
    });
    const response = await emulator.fetch(`${ENDPOINT}/oidc/token`, {
      method: 'POST',
      headers: { authorization: basic },
      body: form(TOKEN_FORM),
    });
    token = ((await response.json()) as { access_token: string }).access_token;
  });

  it('POST /api/hooks: 201 with the whole hook and a 32-character signing key, enabled by default; 400 without events', async () => {
    const created = await send('POST', '/hooks', {
      name: 'a',
      events: ['PostRegister', 'PostRegister', 'User.Created'],
      config: { url: 'http://receiver.test/a' },
    });
    expect(created.status).toBe(201);
    const hook = (await created.json()) as HookBody & Record<string, unknown>;
    expect(Object.keys(hook).sort()).toEqual(
      ['config', 'createdAt', 'enabled', 'event', 'events', 'id', 'name', 'signingKey', 'tenantId'].sort(),
    );
    expect(hook).toMatchObject({
      name: 'a',
      event: null,
      events: ['PostRegister', 'User.Created'],
      config: { url: 'http://receiver.test/a' },
      enabled: true,
      createdAt: expect.any(Number),
    });
    expect(hook.id).toMatch(/^[a-z0-9]{21}$/);
    expect(hook.signingKey).toMatch(/^[0-9A-Za-z]{32}$/);
    const listed = (await (await api('/hooks')).json()) as HookBody[];
    expect(listed.find((item) => item.id === hook.id)).toEqual(hook);
    expect(await (await api(`/hooks/${hook.id}`)).json()).toEqual(hook);

    const noEvents = await send('POST', '/hooks', { config: { url: 'http://receiver.test/x' } });
    expect([noEvents.status, ((await noEvents.json()) as { code: string }).code]).toEqual([
      400,
      'hook.missing_events',
    ]);
    for (const body of [
      { events: [], config: { url: 'http://receiver.test/x' } },
      { events: ['User.Invented'], config: { url: 'http://receiver.test/x' } },
      { events: ['PostRegister'] },
      { events: ['PostRegister'], config: { url: 'http://receiver.test/x', headers: { n: 1 } } },
    ]) {
      const refused = await send('POST', '/hooks', body);
      expect([refused.status, ((await refused.json()) as { code: string }).code]).toEqual([
        400,
        'guard.invalid_input',
      ]);
    }
    expect((await (await api('/hooks')).json()) as unknown[]).toHaveLength(1);
  });

  it('a new hook is delivered its events only, signed with its key, with its headers (never replacing the signature); a disabled one gets nothing and logs nothing', async () => {
    const hook = (await (
      await send('POST', '/hooks', {
        events: ['PostRegister'],
        config: {
          url: 'http://receiver.test/b',
          headers: { 'x-tenant': 't1', 'logto-signature-sha-256': 'forged' },
        },
      })
    ).json()) as HookBody;
    const off = (await (
      await send('POST', '/hooks', {
        events: ['User.Created'],
        config: { url: 'http://receiver.test/c' },
        enabled: false,
      })
    ).json()) as HookBody & { enabled: boolean };
    expect(off.enabled).toBe(false);
    await emulator.signUp({ username: 'hooked' });
    const [delivery, ...more] = to('http://receiver.test/b');
    expect(more).toEqual([]);
    expect(JSON.parse(delivery?.body ?? '{}')).toMatchObject({ event: 'PostRegister', hookId: hook.id });
    expect(delivery?.headers.get('logto-signature-sha-256')).toBe(
      await signLogtoBody(delivery?.body ?? '', hook.signingKey),
    );
    expect(delivery?.headers.get('x-tenant')).toBe('t1');
    expect(to('http://receiver.test/c')).toEqual([]);
    expect(emulator.webhooks.log.filter((entry) => entry.payload.hookId === off.id)).toEqual([]);
  });

  it('PATCH replaces the fields given (config whole); PATCH …/signing-key regenerates the key, used from the next delivery; DELETE 204, then 404', async () => {
    const { id, signingKey } = (await (
      await send('POST', '/hooks', {
        events: ['PostRegister'],
        config: { url: 'http://receiver.test/d', headers: { 'x-tenant': 't1' } },
      })
    ).json()) as HookBody;
    const patched = await send('PATCH', `/hooks/${id}`, {
      config: { url: 'http://receiver.test/e' },
      enabled: true,
    });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({
      id,
      signingKey,
      events: ['PostRegister'],
      config: { url: 'http://receiver.test/e' },
    });
    expect(((await (await api(`/hooks/${id}`)).json()) as HookBody).config).toEqual({
      url: 'http://receiver.test/e',
    });
    const empty = await send('PATCH', `/hooks/${id}`, { events: [] });
    expect([empty.status, ((await empty.json()) as { code: string }).code]).toEqual([
      400,
      'guard.invalid_input',
    ]);
    const unknown = await send('PATCH', '/hooks/nope', { enabled: false });
    expect([unknown.status, ((await unknown.json()) as { code: string }).code]).toEqual([
      400,
      'entity.not_exists',
    ]);

    const rotated = await send('PATCH', `/hooks/${id}/signing-key`);
    expect(rotated.status).toBe(200);
    const { signingKey: newKey } = (await rotated.json()) as HookBody;
    expect(newKey).toMatch(/^[0-9A-Za-z]{32}$/);
    expect(newKey).not.toBe(signingKey);
    await emulator.signUp({ username: 'rotated' });
    const [delivery] = to('http://receiver.test/e');
    expect(delivery?.headers.get('logto-signature-sha-256')).toBe(
      await signLogtoBody(delivery?.body ?? '', newKey),
    );
    const unknownKey = await send('PATCH', '/hooks/nope/signing-key');
    expect([unknownKey.status, ((await unknownKey.json()) as { code: string }).code]).toEqual([
      400,
      'entity.not_exists',
    ]);

    const deleted = await send('DELETE', `/hooks/${id}`);
    expect([deleted.status, await deleted.text()]).toEqual([204, '']);
    expect((await api(`/hooks/${id}`)).status).toBe(404);
    const again = await send('DELETE', `/hooks/${id}`);
    expect([again.status, ((await again.json()) as { code: string }).code]).toEqual([
      404,
      'entity.not_found',
    ]);
    await emulator.signUp({ username: 'after-delete' });
    expect(to('http://receiver.test/e')).toHaveLength(1);
  });
});
