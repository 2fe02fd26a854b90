import { Hono } from 'hono/tiny';
import { createPipelineProvider, createServiceProvider, type ServiceDeps } from '../composition';
import { createConsoleRoutes } from '../console';
import { AppError, toHttpAnswer } from '../errors';
import { log } from '../log';
import { createAdminRoutes } from './admin';
import { runScheduled } from './scheduled';
import { mountWebhookRoutes } from './webhooks';

/** The per-isolate builders of the Logto services and the pipeline: one of each per Worker, shared by every entry. */
interface Providers {
  services: ReturnType<typeof createServiceProvider>;
  pipelines: ReturnType<typeof createPipelineProvider>;
}
const providersFor = (deps: ServiceDeps): Providers => ({
  services: createServiceProvider(deps),
  pipelines: createPipelineProvider(deps),
});

/**
 * Builds the Worker's Hono app. Dependencies (outbound fetch, clock) are injected so tests can point the Worker at
 * the Logto emulator without patching globals.
 */
export function createApp(deps: ServiceDeps = {}, providers: Providers = providersFor(deps)) {
  const { services, pipelines } = providers;
  const now = deps.now ?? Date.now;
  const app = new Hono<{ Bindings: Env }>();
  mountWebhookRoutes(app, { pipelines, now });
  app.route('/admin', createAdminRoutes({ services, pipelines, fetch: deps.fetch, now }));
  app.route('/console', createConsoleRoutes({ services, pipelines, fetch: deps.fetch, now }));
  app.get('/', (c) => c.redirect('/console', 302));

  /** Liveness: answers without touching Logto or the configuration. */
  app.get('/healthz', (c) => c.json({ status: 'ok' }));

  /** Readiness: configuration complete and a verified Management API token obtainable. No secret in the answer. */
  app.get('/readyz', async (c) => {
    const { config, tokens } = services(c.env);
    await tokens.getToken();
    return c.json({
      status: 'ready',
      logto: { mode: config.mode, endpoint: config.endpoint, resource: config.resource },
    });
  });

  app.notFound((c) => c.json({ error: 'not_found' }, 404));
  // The one mapping from errors to answers (src/errors): a status and a code, never a message.
  app.onError((error, c) => {
    const { status, body } = toHttpAnswer(error);
    const route = { method: c.req.method, path: c.req.path };
    if (error instanceof AppError)
      log(status >= 500 ? 'error' : 'warn', 'http.error', {
        ...route,
        code: error.code,
        message: error.message,
      });
    else log('error', 'http.unhandled', { ...route, error: error.name });
    const answer = c.req.path === '/readyz' ? { status: 'not_ready', ...body } : body;
    return c.json(answer, status as 500);
  });
  return app;
}

/**
 * The Worker: the Hono app on `fetch` and the cron sweep on `scheduled`. `deps` as for {@link createApp}.
 */
export function createWorker(deps: ServiceDeps = {}) {
  // fetch and scheduled share the isolate's token cache, role cache and pipeline.
  const providers = providersFor(deps);
  const { services, pipelines } = providers;
  const app = createApp(deps, providers);
  const now = deps.now ?? Date.now;
  return {
    fetch: app.fetch,
    async scheduled(controller: ScheduledController, env: Env, ctx: ExecutionContext) {
      ctx.waitUntil(
        runScheduled(controller.cron, env, { pipeline: pipelines(env), services, now, fetch: deps.fetch }),
      );
    },
  } satisfies ExportedHandler<Env>;
}
