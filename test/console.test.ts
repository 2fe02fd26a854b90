import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_EMULATOR_APP } from '../emulator';
import { callWorker, createUserViaApi, setupPipeline } from './pipeline';
import { testRuntime } from './worker-entry';

/**
 * The operator console through the Worker: sign-in with Logto (authorization code + PKCE against the emulator),
 * access by user or role, events with filters and search, one event's timeline, bulk replay of a failure group.
 */
const CONSOLE_APP = {
  id: 'console-app',
  secret: 'console-secret',
  hasAllScope: false,
  redirectUris: ['http://worker.test/console/callback'],
};
let pipeline: Awaited<ReturnType<typeof setupPipeline>>;
let operatorId = '';
let consoleEnv: Env;

beforeAll(async () => {
  pipeline = await setupPipeline({ apps: [DEFAULT_EMULATOR_APP, CONSOLE_APP] });
  operatorId = (
    await createUserViaApi(pipeline.emulator, { username: 'ops-alice', primaryEmail: 'alice@ops.test' })
  ).id;
  consoleEnv = {
    ...env,
    CONSOLE_CLIENT_ID: CONSOLE_APP.id,
    CONSOLE_CLIENT_SECRET: CONSOLE_APP.secret,
    CONSOLE_USER_IDS: operatorId,
    CONSOLE_ROLE_NAMES: 'console-operator',
  } as Env;
  await pipeline.drain();
});

/** A browser's cookie jar and redirects, across the Worker (worker.test) and the emulator. */
function browser(workerEnv: () => Env = () => consoleEnv) {
  const jar = new Map<string, string>();
  const send = async (url: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    if (url.startsWith('http://worker.test') && jar.size > 0)
      headers.set('cookie', [...jar].map(([name, value]) => `${name}=${value}`).join('; '));
    const response = url.startsWith('http://worker.test')
      ? await callWorker(url, { ...init, headers, redirect: 'manual' }, workerEnv())
      : await pipeline.emulator.fetch(url, { ...init, headers, redirect: 'manual' });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair] = cookie.split(';');
      const [name, value] = (pair ?? '').split('=');
      if (!name) continue;
      if (/max-age=0/i.test(cookie) || value === '') jar.delete(name);
      else jar.set(name, value ?? '');
    }
    return response;
  };
  return {
    jar,
    send,
    /** Follows redirects like a browser (GET after 302/303). */
    async go(url: string, init: RequestInit = {}) {
      let response = await send(url, init);
      for (let hops = 0; hops < 10 && [302, 303].includes(response.status); hops++) {
        url = new URL(response.headers.get('location') ?? '', url).toString();
        response = await send(url);
      }
      return { response, url, html: await response.text() };
    },
    /** Signs in as `identifier` on the emulator's sign-in form; returns where it lands. */
    async signIn(identifier: string, start = 'http://worker.test/console') {
      const form = await this.go(start);
      expect(form.url).toContain('/oidc/auth');
      const params = new URL(form.url).searchParams;
      params.set('identifier', identifier);
      return this.go(form.url.split('?')[0] ?? '', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: params.toString(),
      });
    },
  };
}

const csrfOf = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';

describe('console sign-in', () => {
  it('signs in an allowed operator with Logto (code + PKCE); the session cookie is HttpOnly and SameSite', async () => {
    const b = browser();
    const first = await b.send('http://worker.test/console');
    expect(first.status).toBe(302);
    expect(first.headers.get('location')).toBe('/console/login?next=%2Fconsole');
    const login = await b.send('http://worker.test/console/login?next=%2Fconsole%3Fstatus%3Dfailed');
    const auth = new URL(login.headers.get('location') ?? '');
    expect(auth.pathname).toBe('/oidc/auth');
    expect(auth.searchParams.get('code_challenge_method')).toBe('S256');
    expect(login.headers.getSetCookie()[0]).toMatch(/HttpOnly/);
    const landed = await b.signIn(
      'ops-alice',
      'http://worker.test/console/login?next=%2Fconsole%3Fstatus%3Dfailed',
    );
    expect(landed.response.status).toBe(200);
    expect(landed.url).toBe('http://worker.test/console?status=failed');
    expect(landed.html).toContain('<h1>Events</h1>');
    expect(landed.html).toContain('ops-alice');
    expect([...b.jar.keys()]).toEqual(['console_session']);
  });

  it('refuses a Logto user who is neither listed nor holds the role; lets one in who holds it', async () => {
    const { emulator } = pipeline;
    const stranger = await createUserViaApi(emulator, { username: 'stranger' });
    const refused = await browser().signIn('stranger');
    expect(refused.response.status).toBe(403);
    expect(refused.html).toContain(stranger.id);
    emulator.store.roles.set('role-console', {
      tenantId: 'default',
      id: 'role-console',
      name: 'console-operator',
      description: '',
      type: 'User',
      isDefault: false,
    });
    emulator.store.userRoles.set(stranger.id, new Set(['role-console']));
    expect((await browser().signIn('stranger')).response.status).toBe(200);
  });

  it('a forged state, a replayed code and an outside redirect target are refused', async () => {
    const b = browser();
    await b.send('http://worker.test/console/login');
    const forged = await b.send('http://worker.test/console/callback?code=x&state=forged');
    expect(forged.status).toBe(400);
    // After sign-in, `next` only ever points inside the console.
    const landed = await browser().signIn(
      'ops-alice',
      'http://worker.test/console/login?next=https%3A%2F%2Fevil.test%2F',
    );
    expect(landed.url).toBe('http://worker.test/console');
  });

  it('a tampered login cookie or a CR/LF target cannot send the operator off the console after sign-in', async () => {
    const b = browser();
    const login = await b.send('http://worker.test/console/login?next=%2Fconsole%2F%0D%0AX-Injected%3A%201');
    const cookie = JSON.parse(atob((b.jar.get('console_login') ?? '').replace(/-/g, '+').replace(/_/g, '/')));
    expect(cookie.next).toBe('/console');
    b.jar.set(
      'console_login',
      btoa(JSON.stringify({ ...cookie, next: 'https://evil.test/phish' }))
        .replace(/\+/g, '-')
        .replace(/\//g, '_')
        .replace(/=+$/, ''),
    );
    const form = await b.go(login.headers.get('location') ?? '');
    const params = new URL(form.url).searchParams;
    params.set('identifier', 'ops-alice');
    const landed = await b.go(form.url.split('?')[0] ?? '', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: params.toString(),
    });
    expect(landed.url).toBe('http://worker.test/console');
  });

  it('an operator taken off the list is signed out at once; one whose role was removed within minutes', async () => {
    const { emulator } = pipeline;
    const b = browser();
    expect((await b.signIn('ops-alice')).response.status).toBe(200);
    const saved = consoleEnv;
    try {
      consoleEnv = { ...saved, CONSOLE_USER_IDS: 'somebody-else', CONSOLE_ROLE_NAMES: '' } as Env;
      const out = await b.send('http://worker.test/console');
      expect(out.status).toBe(302);
      expect(out.headers.get('location')).toMatch(/^\/console\/login/);
    } finally {
      consoleEnv = saved;
    }
    // The session was closed, not just refused: back on the list, it still has to sign in again.
    expect((await b.send('http://worker.test/console')).status).toBe(302);

    const roleUser = await createUserViaApi(emulator, { username: 'by-role' });
    emulator.store.userRoles.set(roleUser.id, new Set(['role-console']));
    const r = browser();
    expect((await r.signIn('by-role')).response.status).toBe(200);
    emulator.store.userRoles.set(roleUser.id, new Set());
    // Within the recheck period the session stands; after it, Logto's roles are read again and it ends.
    expect((await r.send('http://worker.test/console')).status).toBe(200);
    testRuntime.now = () => Date.now() + 6 * 60_000;
    try {
      expect((await r.send('http://worker.test/console')).status).toBe(302);
    } finally {
      testRuntime.now = undefined;
    }
  });

  it('is off, with the reason, when CONSOLE_CLIENT_ID or the allowed users are missing', async () => {
    const off = await callWorker('http://worker.test/console', {}, env);
    expect(off.status).toBe(503);
    expect(await off.text()).toContain('CONSOLE_CLIENT_ID');
    const nobody = await callWorker('http://worker.test/console', {}, {
      ...env,
      CONSOLE_CLIENT_ID: CONSOLE_APP.id,
    } as Env);
    expect(await nobody.text()).toContain('CONSOLE_USER_IDS or CONSOLE_ROLE_NAMES');
    expect((await callWorker('http://worker.test/')).headers.get('location')).toBe('/console');
  });
});

describe('console pages', () => {
  it('filters and searches events, shows one with its timeline, and bulk-replays a failure group to done', async () => {
    const { emulator } = pipeline;
    const b = browser();
    await b.signIn('ops-alice');
    // Three sign-ups fail: a sign-up role is missing in Logto (it cannot succeed on retry).
    const missing = [...emulator.store.roles.values()].find((role) => role.name === 'beta-tester');
    if (missing) emulator.store.roles.delete(missing.id);
    const users = [];
    for (let i = 0; i < 3; i++)
      users.push(
        await emulator.signUp({ username: `console${i}`, primaryEmail: `console${i}@example.test` }),
      );
    await pipeline.drain();

    const failed = await b.go('http://worker.test/console?status=failed');
    for (const user of users) expect(failed.html).toContain(user.id);
    // A hand-edited field that does not parse is dropped alone: the other filters still hold.
    const all = await b.go(`http://worker.test/console?q=${users[1]?.id}`);
    expect(all.html).toContain('>User.Created</a>');
    const edited = await b.go(
      `http://worker.test/console?type=PostRegister&q=${users[1]?.id}&since=yesterday`,
    );
    expect(edited.html).toContain('Filters ignored: since/until must be ISO times or epoch ms.');
    expect(edited.html).toContain('>PostRegister</a>');
    expect(edited.html).not.toContain('>User.Created</a>');
    const byEmail = await b.go('http://worker.test/console?q=console1%40example.test');
    expect(byEmail.html).toContain(users[1]?.id);
    expect(byEmail.html).not.toContain(users[0]?.id);
    const key = /href="\/console\/events\/([0-9a-f]{64})"/.exec(failed.html)?.[1] ?? '';
    const detail = await b.go(`http://worker.test/console/events/${key}`);
    expect(detail.html).toContain('role_not_found');
    expect(detail.html).toContain('<h2>Timeline</h2>');
    expect(detail.html).toMatch(/signup-roles: assign sign-up roles/);

    const groups = await b.go('http://worker.test/console/failures');
    expect(groups.html).toContain('role_not_found');
    expect(groups.html).toContain('<td>signup-roles</td>');
    expect(groups.html).toContain('no role named');
    const confirmHref =
      /href="(\/console\/failures\/replay\?[^"]+)"/.exec(groups.html)?.[1]?.replaceAll('&amp;', '&') ?? '';
    const confirm = await b.go(`http://worker.test${confirmHref}`);
    const count = Number(/<strong>(\d+)<\/strong> failed/.exec(confirm.html)?.[1]);
    expect(count).toBeGreaterThanOrEqual(3);
    // Without the form's token nothing happens.
    const form = new URLSearchParams(
      [...confirm.html.matchAll(/name="(\w+)" value="([^"]*)"/g)].map((m) => [m[1] ?? '', m[2] ?? '']),
    );
    const forged = new URLSearchParams(form);
    forged.set('csrf', 'nope');
    const refused = await b.send('http://worker.test/console/failures/replay', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: forged.toString(),
    });
    expect(refused.status).toBe(403);
    expect(form.get('csrf')).toBe(csrfOf(confirm.html));

    // Fixed in Logto, then replayed in bulk.
    if (missing) emulator.store.roles.set(missing.id, missing);
    const replayed = await b.go('http://worker.test/console/failures/replay', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
    expect(replayed.response.status).toBe(200);
    await pipeline.drain();
    const after = await b.go('http://worker.test/console?status=failed');
    for (const user of users) expect(after.html).not.toContain(user.id);
    for (const user of users) expect(pipeline.rolesOf(user.id)).toContain('beta-tester');
    const health = await b.go('http://worker.test/console/health');
    expect(health.html).toContain('silent for');
    expect(health.html).toMatch(/M2M token<\/dt><dd>expires in \d+ min/);
    expect(health.html).toContain('rate governor');
  });
});
