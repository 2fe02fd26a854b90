import { Hono } from 'hono';
import { TokenCheckError, TokenEndpointError } from '../kv-token-cache';
import { ConfigError, createServiceProvider, type ServiceDeps } from '../services';

/**
 * Builds the Worker's Hono app. Dependencies (outbound fetch, clock) are injected so tests can point the Worker at
 * the Logto emulator without patching globals.
 */
export function createApp(deps: ServiceDeps = {}) {
  const services = createServiceProvider(deps);
  const app = new Hono<{ Bindings: Env }>();

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
  app.onError((error, c) => {
    const ready = c.req.path === '/readyz';
    if (error instanceof ConfigError) {
      const body = { error: 'configuration_error', variable: error.variable, reason: error.reason };
      return c.json(ready ? { status: 'not_ready', ...body } : body, ready ? 503 : 500);
    }
    if (error instanceof TokenEndpointError || error instanceof TokenCheckError) {
      const detail =
        error instanceof TokenEndpointError ? { oauthError: error.oauthError } : { check: error.check };
      console.error(error.message);
      return c.json(
        { status: 'not_ready', error: 'token_unavailable', ...detail, message: error.message },
        503,
      );
    }
    console.error(`unhandled error on ${c.req.method} ${c.req.path}: ${error.name}`);
    return c.json({ error: 'internal_error' }, 500);
  });
  return app;
}
