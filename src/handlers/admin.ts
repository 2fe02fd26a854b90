import type { Context } from 'hono';
import { Hono } from 'hono/tiny';
import { checkAdminToken } from '../admin';
import type { Pipeline, Services } from '../composition';
import { parseAdminSettings, parseLogtoConfig } from '../config';
import {
  BATCH_STATUSES,
  type BatchStatus,
  type EventStatus,
  type JournalEntry,
  REPLAYABLE,
} from '../journal';
import { log } from '../log';
import {
  bulkReplay,
  decideBatch,
  eventFilterOf,
  MAX_BULK_REPLAY,
  MAX_HELD_REPLAY,
  replayKeys,
  replayVerdict,
} from '../operations';
import { runRecovery } from './scheduled';

interface AdminDeps {
  services: (env: Env) => Services;
  pipelines: (env: Env) => Pipeline;
  fetch?: typeof fetch;
  now: () => number;
}

/** A journal row without the raw body (the list view). */
const summary = ({ rawBody: _raw, ...entry }: JournalEntry) => entry;

const badRequest = (c: Context, reason: string) => c.json({ error: 'bad_request', reason }, 400);

/**
 * The admin API under `/admin`: list and show journaled events, replay one, a list, or every `failed` event in a time
 * range. Authentication: a Logto access token for ADMIN_API_RESOURCE whose `sub` is in ADMIN_APP_IDS.
 */
export function createAdminRoutes(deps: AdminDeps) {
  const admin = new Hono<{ Bindings: Env; Variables: { adminApp: string } }>();
  const outbound = deps.fetch ?? ((input, init) => fetch(input, init));

  // Authentication first, from the admin settings and the Logto endpoint alone: a caller who is not an operator learns
  // nothing about the rest of the configuration (a bad variable elsewhere is reported only after this).
  admin.use('*', async (c, next) => {
    const settings = parseAdminSettings(c.env);
    if (!settings.ok || !settings.admin) return c.json({ error: 'admin_not_configured' }, 503);
    const logto = parseLogtoConfig(c.env);
    if (!logto.ok) {
      log('error', 'admin.unavailable', { variable: logto.variable, reason: logto.reason });
      return c.json({ error: 'admin_unavailable' }, 503);
    }
    const verdict = await checkAdminToken(
      c.req.header('authorization'),
      { ...logto.config, fetch: outbound, now: deps.now },
      settings.admin,
    );
    if (!verdict.ok) {
      if (verdict.status === 401) c.header('WWW-Authenticate', 'Bearer');
      const error = { 401: 'unauthorized', 403: 'forbidden', 503: 'logto_unavailable' }[verdict.status];
      return c.json({ error }, verdict.status);
    }
    c.set('adminApp', verdict.appId);
    await next();
  });

  admin.get('/events', async (c) => {
    const filter = eventFilterOf(c.req.query());
    if ('invalid' in filter) return badRequest(c, filter.invalid);
    const page = await deps.pipelines(c.env).journal.events.list(filter);
    return c.json({ events: page.entries.map(summary), nextCursor: page.nextCursor ?? null });
  });

  admin.get('/events/:key', async (c) => {
    const entry = await deps.pipelines(c.env).journal.events.get(c.req.param('key'));
    if (!entry) return c.json({ error: 'not_found' }, 404);
    return c.json({ ...summary(entry), payload: JSON.parse(entry.rawBody) });
  });

  admin.post('/events/:key/replay', async (c) => {
    const result = await replayKeys(deps.pipelines(c.env), [c.req.param('key')]);
    const skip = result.skipped[0];
    if (!skip) return c.json(result, 202);
    const missing = skip.reason === 'not found';
    return c.json(
      { error: missing ? 'not_found' : 'not_replayable', reason: skip.reason },
      missing ? 404 : 409,
    );
  });

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

  /**
   * Bulk replay. Body: `{ "eventKeys": [...] }`, or `{ "status": "failed", "since": …, "until": …, "type": … }` for
   * every event of that status received in the range. `"dryRun": true` only counts. More events than the brakes'
   * `maxUsers` are held as a batch for approval (`/admin/batches/:id/approve`); otherwise at most
   * {@link MAX_BULK_REPLAY} are replayed per call (`remaining` says when to call again).
   */
  admin.post('/replay', async (c) => {
    let body: {
      eventKeys?: unknown;
      status?: unknown;
      since?: unknown;
      until?: unknown;
      type?: unknown;
      dryRun?: unknown;
    };
    try {
      body = await c.req.json();
    } catch {
      return badRequest(c, 'body must be JSON');
    }
    const pipeline = deps.pipelines(c.env);
    const services = deps.services(c.env);
    const { journal } = pipeline;
    const dryRun = body.dryRun === true;
    let entries: JournalEntry[] = [];
    let capped = false;
    if (body.eventKeys !== undefined) {
      if (
        !Array.isArray(body.eventKeys) ||
        !body.eventKeys.every((key) => typeof key === 'string') ||
        body.eventKeys.length > MAX_BULK_REPLAY
      ) {
        return badRequest(c, `eventKeys must be an array of at most ${MAX_BULK_REPLAY} event keys`);
      }
      const keys = [...new Set(body.eventKeys as string[])];
      // The rows are read only when they are needed: a dry run's count, or a held batch's preview.
      if (!dryRun && !(await replayVerdict(pipeline, services, keys.length)).reason)
        return c.json(await replayKeys(pipeline, keys), 202);
      for (const key of keys) {
        const entry = await journal.events.get(key);
        if (entry) entries.push(entry);
      }
    } else {
      const status = (body.status ?? 'failed') as EventStatus;
      if (!REPLAYABLE.includes(status))
        return badRequest(c, `status must be one of ${REPLAYABLE.join(', ')}`);
      const text = (value: unknown) => (value === undefined ? undefined : String(value));
      const filter = eventFilterOf({
        status,
        since: text(body.since),
        until: text(body.until),
        type: typeof body.type === 'string' ? body.type : undefined,
      });
      if ('invalid' in filter) return badRequest(c, filter.invalid);
      let cursor: string | undefined;
      do {
        const page = await journal.events.list({ ...filter, limit: 100, cursor });
        entries.push(...page.entries);
        cursor = page.nextCursor;
      } while (cursor && entries.length < MAX_HELD_REPLAY);
      capped = cursor !== undefined;
      entries = entries.slice(0, MAX_HELD_REPLAY);
    }
    if (dryRun) {
      const { reason } = await replayVerdict(pipeline, services, entries.length);
      return c.json({
        dryRun: true,
        count: entries.length,
        capped,
        wouldHold: reason !== null,
        reason: reason ?? undefined, // left out of the JSON when nothing would hold them
        maxUsers: pipeline.recipes.brakes.maxUsers,
      });
    }
    const outcome = await bulkReplay(pipeline, services, entries, deps.now());
    if (outcome.held) return c.json({ held: outcome.held, capped }, 202);
    return c.json({ ...outcome, remaining: outcome.remaining || capped }, 202);
  });

  /** Held mass changes (brakes): list, show with a preview page, approve, discard. */
  admin.get('/batches', async (c) => {
    const status = c.req.query('status') as BatchStatus | undefined;
    if (status && !BATCH_STATUSES.includes(status))
      return badRequest(c, `status must be one of ${BATCH_STATUSES.join(', ')}`);
    const batches = await deps.pipelines(c.env).journal.batches.list({ status });
    return c.json({ batches });
  });

  admin.get('/batches/:id', async (c) => {
    const { batches } = deps.pipelines(c.env).journal;
    const batch = await batches.get(c.req.param('id'));
    if (!batch) return c.json({ error: 'not_found' }, 404);
    const limit = Number(c.req.query('limit') ?? 100);
    if (!(Number.isInteger(limit) && limit >= 1 && limit <= 100)) return badRequest(c, 'limit must be 1–100');
    const items = await batches.items(batch.batchId, { limit, afterKey: c.req.query('cursor') });
    const preview = items.map(({ newEvent: _event, ...item }) => item);
    const last = items.length === limit ? items[items.length - 1]?.eventKey : undefined;
    return c.json({ batch, items: preview, nextCursor: last ?? null });
  });

  admin.post('/batches/:id/:decision{approve|discard}', async (c) => {
    const decision = c.req.param('decision') as 'approve' | 'discard';
    const { batch, changed, released, remaining } = await decideBatch(
      deps.pipelines(c.env),
      c.req.param('id'),
      decision,
      c.get('adminApp'),
      'admin',
    );
    if (!batch) return c.json({ error: 'not_found' }, 404);
    if (!changed) return c.json({ error: 'not_held', reason: `batch is ${batch.status}` }, 409);
    return decision === 'approve' ? c.json({ batch, released, remaining }, 202) : c.json({ batch });
  });

  return admin;
}
