import { type Context, Hono } from 'hono';
import { createAdminVerifier } from '../admin';
import type { Pipeline, Services } from '../composition';
import type { LogtoConfig } from '../config';
import { EVENT_STATUSES, type EventStatus, type JournalEntry, REPLAYABLE } from '../journal';
import { runRecovery } from './scheduled';

interface AdminDeps {
  services: (env: Env) => Services;
  pipelines: (env: Env) => Pipeline;
  fetch?: typeof fetch;
  now: () => number;
}

const STATUSES = EVENT_STATUSES;
/** Most events one bulk replay request restarts; call again for the rest (`remaining` says so). */
export const MAX_BULK_REPLAY = 500;

/** A journal row without the raw body (the list view). */
const summary = ({ rawBody: _raw, ...entry }: JournalEntry) => entry;

/** Parses an ISO time or epoch ms query value. */
function time(value: string | undefined): number | undefined | 'invalid' {
  if (value === undefined || value === '') return undefined;
  const parsed = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  return Number.isFinite(parsed) ? parsed : 'invalid';
}

const badRequest = (c: Context, reason: string) => c.json({ error: 'bad_request', reason }, 400);

/**
 * The admin API under `/admin`: list and show journaled events, replay one, a list, or every `failed` event in a time
 * range. Authentication: a Logto access token for ADMIN_API_RESOURCE whose `sub` is in ADMIN_APP_IDS.
 */
export function createAdminRoutes(deps: AdminDeps) {
  const admin = new Hono<{ Bindings: Env }>();
  let verifier: { key: string; verify: ReturnType<typeof createAdminVerifier> } | undefined;
  const verifierFor = (config: LogtoConfig, resource: string, appIds: string[]) => {
    const key = JSON.stringify([config.endpoint, resource, appIds, config.algorithms]);
    if (verifier?.key !== key) {
      verifier = {
        key,
        verify: createAdminVerifier({
          jwksUrl: `${config.endpoint}/oidc/jwks`,
          issuer: config.issuer,
          audience: resource,
          appIds,
          algorithms: config.algorithms,
          fetch: deps.fetch ?? ((input, init) => fetch(input, init)),
          now: deps.now,
        }),
      };
    }
    return verifier.verify;
  };

  admin.use('*', async (c, next) => {
    const { admin: settings } = deps.pipelines(c.env).config;
    if (!settings) return c.json({ error: 'admin_not_configured' }, 503);
    const { config } = deps.services(c.env);
    const verdict = await verifierFor(
      config,
      settings.resource,
      settings.appIds,
    )(c.req.header('authorization'));
    if (!verdict.ok) {
      if (verdict.status === 401) c.header('WWW-Authenticate', 'Bearer');
      return c.json({ error: verdict.status === 401 ? 'unauthorized' : 'forbidden' }, verdict.status);
    }
    await next();
  });

  admin.get('/events', async (c) => {
    const query = c.req.query();
    const status = query.status as EventStatus | undefined;
    if (status && !STATUSES.includes(status))
      return badRequest(c, `status must be one of ${STATUSES.join(', ')}`);
    const since = time(query.since);
    const until = time(query.until);
    if (since === 'invalid' || until === 'invalid')
      return badRequest(c, 'since/until must be ISO times or epoch ms');
    const limit = query.limit ? Number(query.limit) : undefined;
    if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1 && limit <= 100)) {
      return badRequest(c, 'limit must be 1–100');
    }
    const page = await deps.pipelines(c.env).journal.events.list({
      status,
      eventType: query.type,
      source: query.source,
      since,
      until,
      limit,
      cursor: query.cursor,
    });
    return c.json({ events: page.entries.map(summary), nextCursor: page.nextCursor ?? null });
  });

  admin.get('/events/:key', async (c) => {
    const entry = await deps.pipelines(c.env).journal.events.get(c.req.param('key'));
    if (!entry) return c.json({ error: 'not_found' }, 404);
    return c.json({ ...summary(entry), payload: JSON.parse(entry.rawBody) });
  });

  /** Replays the given keys (re-opened, then started through the enqueue path); returns what happened to each. */
  async function replay(env: Env, keys: string[]) {
    const { journal, enqueue } = deps.pipelines(env);
    // Handed over now, not in waitUntil: the operator wants to know. A failure leaves them `received` for the cron.
    const { reopened, skipped: notReopened } = await enqueue.reopen(keys);
    const skipped: { eventKey: string; reason: string }[] = [];
    for (const key of notReopened) {
      const current = await journal.events.get(key);
      skipped.push({
        eventKey: key,
        reason: current ? `status ${current.status} cannot be replayed` : 'not found',
      });
    }
    return { replayed: reopened.map((entry: JournalEntry) => entry.eventKey), skipped };
  }

  admin.post('/events/:key/replay', async (c) => {
    const result = await replay(c.env, [c.req.param('key')]);
    const skip = result.skipped[0];
    if (skip)
      return c.json(
        { error: skip.reason === 'not found' ? 'not_found' : 'not_replayable', reason: skip.reason },
        skip.reason === 'not found' ? 404 : 409,
      );
    return c.json(result, 202);
  });

  /**
   * Bulk replay. Body: `{ "eventKeys": [...] }`, or `{ "status": "failed", "since": …, "until": … }` for every
   * event of that status received in the range (at most {@link MAX_BULK_REPLAY} per call).
   */
  /**
   * Recovers now what Logto tried to deliver and could not (its hook log), as the 5-minute cron does; answers what
   * was read and recovered per hook. 409 when recovery is not configured.
   */
  admin.post('/recover', async (c) => {
    const reports = await runRecovery(c.env, {
      pipeline: deps.pipelines(c.env),
      services: deps.services,
      now: deps.now,
    });
    if (!reports)
      return c.json({ error: 'recovery_not_configured', reason: 'set LOGTO_HOOK_IDS or WORKER_URL' }, 409);
    return c.json({ hooks: reports });
  });

  admin.post('/replay', async (c) => {
    let body: { eventKeys?: unknown; status?: unknown; since?: unknown; until?: unknown; type?: unknown };
    try {
      body = await c.req.json();
    } catch {
      return badRequest(c, 'body must be JSON');
    }
    if (body.eventKeys !== undefined) {
      if (
        !Array.isArray(body.eventKeys) ||
        !body.eventKeys.every((key) => typeof key === 'string') ||
        body.eventKeys.length > MAX_BULK_REPLAY
      ) {
        return badRequest(c, `eventKeys must be an array of at most ${MAX_BULK_REPLAY} event keys`);
      }
      return c.json(await replay(c.env, body.eventKeys as string[]), 202);
    }
    const status = (body.status ?? 'failed') as EventStatus;
    if (!REPLAYABLE.includes(status)) return badRequest(c, `status must be one of ${REPLAYABLE.join(', ')}`);
    const since = time(body.since === undefined ? undefined : String(body.since));
    const until = time(body.until === undefined ? undefined : String(body.until));
    if (since === 'invalid' || until === 'invalid')
      return badRequest(c, 'since/until must be ISO times or epoch ms');
    const { journal } = deps.pipelines(c.env);
    const keys: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await journal.events.list({
        status,
        since,
        until,
        eventType: typeof body.type === 'string' ? body.type : undefined,
        limit: 100,
        cursor,
      });
      keys.push(...page.entries.map((entry) => entry.eventKey));
      cursor = page.nextCursor;
    } while (cursor && keys.length < MAX_BULK_REPLAY);
    const result = await replay(c.env, keys.slice(0, MAX_BULK_REPLAY));
    return c.json({ ...result, remaining: keys.length > MAX_BULK_REPLAY || cursor !== undefined }, 202);
  });

  return admin;
}
