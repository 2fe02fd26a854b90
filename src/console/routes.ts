import type { Context } from 'hono';
import { Hono } from 'hono/tiny';
import type { Pipeline, Services } from '../composition';
import { isReplayable, type JournalEntry, type ListFilter } from '../journal';
import { log } from '../log';
import {
  bulkReplay,
  decideBatch,
  eventFilterOf,
  MAX_HELD_REPLAY,
  replayKeys,
  replayVerdict,
} from '../operations';
import { clearCookie, formOf, readCookie, writeCookie } from './http';
import {
  ACCESS_RECHECK_MS,
  challengeOf,
  createSessions,
  decodeLogin,
  encodeLogin,
  LOGIN_COOKIE,
  type Operator,
  randomToken,
  redeemCode,
  SESSION_COOKIE,
  SESSION_TTL_MS,
  safeNext,
} from './session';
import { type ConsoleSettings, consoleSettings } from './settings';
import {
  BatchesPage,
  BatchPage,
  ConfirmReplayPage,
  type EventFilters,
  EventPage,
  EventsPage,
  FailuresPage,
  HealthPage,
  type Html,
  Layout,
  MessagePage,
  type RuntimeHealth,
} from './views';

export interface ConsoleDeps {
  services: (env: Env) => Services;
  pipelines: (env: Env) => Pipeline;
  fetch?: typeof fetch;
  now: () => number;
}

type ConsoleEnv = { Bindings: Env; Variables: { operator: Operator; settings: ConsoleSettings } };

/** May this Logto user use the console: listed in CONSOLE_USER_IDS, or holding a role CONSOLE_ROLE_NAMES names. */
async function mayUse(services: Services, settings: ConsoleSettings, userId: string): Promise<boolean> {
  if (settings.userIds.includes(userId)) return true;
  if (settings.roleNames.length === 0) return false;
  for await (const role of services.logto.users.listRoles(userId))
    if (settings.roleNames.includes(role.name)) return true;
  return false;
}

/**
 * The operator console under `/console`, server-rendered (views.ts's escaping `html` template), signed in with Logto
 * itself (authorization code + PKCE; the users or roles CONSOLE_USER_IDS / CONSOLE_ROLE_NAMES name). Every change is a
 * POST form carrying the session's CSRF token, besides the SameSite=Lax session cookie.
 */
export function createConsoleRoutes(deps: ConsoleDeps) {
  const app = new Hono<ConsoleEnv>();
  const outbound = deps.fetch ?? ((input, init) => fetch(input, init));
  /** A page in the layout; its header shows the signed-in operator (none before the session check below). */
  const page = (c: Context<ConsoleEnv>, title: string, body: Html, status = 200) =>
    c.html(Layout({ title, operator: c.get('operator'), children: body }).text, status as 200);
  const message = (c: Context<ConsoleEnv>, title: string, text: string, status = 200) =>
    page(c, title, MessagePage({ title, message: text }), status);
  const callbackUrl = (c: Context) => `${new URL(c.req.url).origin}/console/callback`;

  app.use('*', async (c, next) => {
    const settings = consoleSettings(c.env);
    if ('off' in settings) return message(c, 'The console is off', settings.off, 503);
    c.set('settings', settings);
    c.header('Cache-Control', 'no-store');
    c.header('X-Frame-Options', 'DENY');
    c.header('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'");
    await next();
  });

  app.get('/login', async (c) => {
    const settings = c.get('settings');
    const { config } = deps.services(c.env);
    const login = {
      state: randomToken(18),
      verifier: randomToken(48),
      nonce: randomToken(18),
      next: safeNext(c.req.query('next')),
    };
    writeCookie(c, LOGIN_COOKIE, encodeLogin(login), 600);
    const query = new URLSearchParams({
      client_id: settings.clientId,
      redirect_uri: callbackUrl(c),
      response_type: 'code',
      scope: 'openid profile email',
      state: login.state,
      nonce: login.nonce,
      code_challenge: await challengeOf(login.verifier),
      code_challenge_method: 'S256',
      prompt: 'login',
    });
    return c.redirect(`${config.endpoint}/oidc/auth?${query}`, 302);
  });

  app.get('/callback', async (c) => {
    const settings = c.get('settings');
    const services = deps.services(c.env);
    const login = decodeLogin(readCookie(c, LOGIN_COOKIE));
    clearCookie(c, LOGIN_COOKIE);
    const fail = (reason: string, status = 400) => message(c, 'Sign-in failed', reason, status);
    if (!login || login.state !== c.req.query('state'))
      return fail('This sign-in expired or was not started here.');
    const code = c.req.query('code');
    if (!code) return fail(`Logto answered: ${c.req.query('error') ?? 'no code'}.`);
    const redeemed = await redeemCode({ ...services.config, fetch: outbound, now: deps.now }, settings, {
      code,
      redirectUri: callbackUrl(c),
      verifier: login.verifier,
      nonce: login.nonce,
    });
    if (!redeemed.ok) return fail(redeemed.reason, 502);
    if (!(await mayUse(services, settings, redeemed.userId))) {
      log('warn', 'console.refused', { userId: redeemed.userId });
      return fail(
        `Your Logto account (${redeemed.userId}) may not use this console: add it to CONSOLE_USER_IDS or give it a role named in CONSOLE_ROLE_NAMES.`,
        403,
      );
    }
    const id = await createSessions(c.env.JOURNAL, deps.now).open(redeemed.userId, redeemed.display);
    log('info', 'console.signin', { userId: redeemed.userId });
    writeCookie(c, SESSION_COOKIE, id, SESSION_TTL_MS / 1000);
    return c.redirect(safeNext(login.next), 303);
  });

  // Everything below needs a session whose operator is still allowed; a POST also the session's CSRF token.
  app.use('*', async (c, next) => {
    const settings = c.get('settings');
    const sessions = createSessions(c.env.JOURNAL, deps.now);
    const sessionId = readCookie(c, SESSION_COOKIE);
    let operator = await sessions.find(sessionId);
    // Taken off CONSOLE_USER_IDS, or their role removed in Logto (read again every few minutes): signed out.
    if (operator && sessionId && !settings.userIds.includes(operator.userId)) {
      const stale = deps.now() - operator.checkedAt > ACCESS_RECHECK_MS;
      const allowed = stale
        ? await mayUse(deps.services(c.env), settings, operator.userId)
        : settings.roleNames.length > 0;
      if (allowed && stale) await sessions.checked(sessionId);
      if (!allowed) {
        await sessions.close(sessionId);
        log('warn', 'console.revoked', { userId: operator.userId });
        operator = undefined;
      }
    }
    if (!operator) {
      if (c.req.method !== 'GET') return c.text('sign in first', 401);
      const path = new URL(c.req.url);
      return c.redirect(`/console/login?next=${encodeURIComponent(path.pathname + path.search)}`, 302);
    }
    if (c.req.method === 'POST') {
      const form = await formOf(c);
      if (form.get('csrf') !== operator.csrf) return c.text('stale form: reload the page', 403);
    }
    c.set('operator', operator);
    await next();
  });

  app.post('/logout', async (c) => {
    await createSessions(c.env.JOURNAL, deps.now).close(readCookie(c, SESSION_COOKIE));
    clearCookie(c, SESSION_COOKIE);
    // Built without `page`: the header no longer shows the operator.
    const body = MessagePage({ title: 'Signed out', message: 'You are signed out of the console.' });
    return c.html(Layout({ title: 'Signed out', children: body }).text);
  });

  app.get('/', async (c) => {
    const query = c.req.query();
    // Empty fields are no filter (eventFilterOf), and are left out of the next page's link.
    const { status, type, source, since, until } = query;
    const filters: EventFilters = { status, type, source, q: query.q?.trim(), since, until };
    const { journal } = deps.pipelines(c.env);
    // A hand-edited field that does not parse is dropped alone (the others, the cursor and the next link stay).
    const ignored: string[] = [];
    for (const field of ['status', 'since', 'until'] as const) {
      const alone = eventFilterOf({ [field]: filters[field] });
      if ('invalid' in alone) {
        ignored.push(alone.invalid);
        filters[field] = undefined;
      }
    }
    let notice = ignored.length > 0 ? `Filters ignored: ${[...new Set(ignored)].join('; ')}.` : undefined;
    const filter = eventFilterOf({ ...filters, limit: '50', cursor: query.cursor }) as ListFilter;
    if (filters.q) {
      if (/^[0-9a-f]{64}$/.test(filters.q) && (await journal.events.get(filters.q)))
        return c.redirect(`/console/events/${filters.q}`, 302);
      if (filters.q.includes('@')) {
        // Logto knows emails; the journal knows users: search Logto, then the user's events.
        const found: string[] = [];
        for await (const user of deps
          .services(c.env)
          .logto.users.search(
            { fields: { primaryEmail: filters.q }, fieldModes: { primaryEmail: 'exact' } },
            5,
          )) {
          found.push(user.id);
          if (found.length >= 5) break;
        }
        if (found.length === 0) notice = `No Logto user has the email ${filters.q}.`;
        else if (found.length > 1) notice = `${found.length} users have this email; showing the first.`;
        filter.subject = found[0] ?? '\u0000none';
      } else filter.subject = filters.q;
    }
    const { entries, nextCursor } = await journal.events.list(filter);
    let nextHref: string | undefined;
    if (nextCursor) {
      const params = new URLSearchParams(
        Object.entries(filters).filter((entry): entry is [string, string] => !!entry[1]),
      );
      params.set('cursor', nextCursor);
      nextHref = `/console?${params}`;
    }
    return page(c, 'Events', EventsPage({ filters, entries, nextHref, notice }));
  });

  const eventPage = async (c: Context<ConsoleEnv>, entry: JournalEntry, notice?: string) => {
    const { journal } = deps.pipelines(c.env);
    const [actions, calls] = await Promise.all([
      journal.insights.eventActions(entry.eventKey),
      journal.timeline.forEvent(entry.eventKey),
    ]);
    let payload = entry.rawBody;
    try {
      payload = JSON.stringify(JSON.parse(entry.rawBody), null, 2);
    } catch {
      // Shown as stored.
    }
    return page(
      c,
      entry.eventType,
      EventPage({
        entry,
        actions,
        calls,
        operator: c.get('operator'),
        payload,
        replayable: isReplayable(entry),
        notice,
      }),
    );
  };

  const notFound = (c: Context<ConsoleEnv>, what: 'event' | 'batch') =>
    message(c, 'Not found', `No such ${what}.`, 404);

  app.get('/events/:key', async (c) => {
    const entry = await deps.pipelines(c.env).journal.events.get(c.req.param('key'));
    if (!entry) return notFound(c, 'event');
    return eventPage(c, entry);
  });

  app.post('/events/:key/replay', async (c) => {
    const pipeline = deps.pipelines(c.env);
    const key = c.req.param('key');
    const { replayed, skipped } = await replayKeys(pipeline, [key]);
    log('info', 'console.replay', { by: c.get('operator').userId, eventKey: key, replayed: replayed.length });
    const entry = await pipeline.journal.events.get(key);
    if (!entry) return notFound(c, 'event');
    return eventPage(c, entry, skipped[0] ? `Not replayed: ${skipped[0].reason}.` : 'Replay started.');
  });

  app.get('/failures', async (c) => {
    const groups = await deps.pipelines(c.env).journal.insights.failureGroups();
    return page(c, 'Failures', FailuresPage({ groups, now: deps.now() }));
  });

  /** The failure group a replay link or form names (`type`, `code`), and the keys of its events. */
  const failureGroup = async (c: Context<ConsoleEnv>, field: (name: string) => string | null | undefined) => {
    const pipeline = deps.pipelines(c.env);
    const type = field('type') ?? '';
    const code = field('code') ?? '';
    const keys = await pipeline.journal.insights.failureGroupKeys(type, code, MAX_HELD_REPLAY);
    return { pipeline, type, code, keys };
  };

  app.get('/failures/replay', async (c) => {
    const { pipeline, type, code, keys } = await failureGroup(c, (name) => c.req.query(name));
    const { reason } = await replayVerdict(pipeline, deps.services(c.env), keys.length);
    const confirm = ConfirmReplayPage({
      type,
      code,
      count: keys.length,
      held: reason !== null,
      maxUsers: pipeline.recipes.brakes.maxUsers,
      operator: c.get('operator'),
    });
    return page(c, 'Replay', confirm);
  });

  app.post('/failures/replay', async (c) => {
    const form = await formOf(c);
    const { pipeline, type, code, keys } = await failureGroup(c, (name) => form.get(name));
    const entries = keys.map((eventKey) => ({ eventKey, eventType: type, subject: null, status: 'failed' }));
    // The whole group the confirmation page counted (the brakes hold it first when it is over their limits).
    const outcome = await bulkReplay(pipeline, deps.services(c.env), entries, deps.now(), entries.length);
    log('info', 'console.replay_group', {
      by: c.get('operator').userId,
      eventType: type,
      code,
      replayed: outcome.held ? 0 : outcome.replayed.length,
      heldBatch: outcome.held?.batchId,
    });
    const to = outcome.held
      ? `/console/batches/${encodeURIComponent(outcome.held.batchId)}`
      : '/console?status=running';
    return c.redirect(to, 303);
  });

  app.get('/batches', async (c) => {
    const batches = await deps.pipelines(c.env).journal.batches.list({ limit: 100 });
    return page(c, 'Held batches', BatchesPage({ batches }));
  });

  app.get('/batches/:id', async (c) => {
    const { batches } = deps.pipelines(c.env).journal;
    const batch = await batches.get(c.req.param('id'));
    if (!batch) return notFound(c, 'batch');
    const items = await batches.items(batch.batchId, { limit: 100 });
    return page(c, 'Batch', BatchPage({ batch, items, operator: c.get('operator') }));
  });

  app.post('/batches/:id/:decision{approve|discard}', async (c) => {
    const id = c.req.param('id');
    const decision = c.req.param('decision') as 'approve' | 'discard';
    await decideBatch(deps.pipelines(c.env), id, decision, c.get('operator').userId, 'console');
    return c.redirect(`/console/batches/${encodeURIComponent(id)}`, 303);
  });

  app.get('/health', async (c) => {
    const health = await deps.pipelines(c.env).journal.insights.health();
    const services = deps.services(c.env);
    const runtime: RuntimeHealth = {};
    // Read live and shown as unavailable when they fail: the page must load while Logto is down.
    try {
      runtime.governor = await services.governorStats();
    } catch {}
    try {
      runtime.tokenExpiresAt = (await services.tokens.acquire()).expiresAt;
    } catch {}
    return page(c, 'Health', HealthPage({ health, now: deps.now(), runtime }));
  });

  return app;
}
