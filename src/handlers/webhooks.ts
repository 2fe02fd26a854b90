import type { Hono } from 'hono';
import { ingestCallback } from '../pipeline/callbacks';
import { ingestLogtoDelivery } from '../pipeline/ingest';
import { planFor } from '../pipeline/plan';
import type { createRunStarter, StarterTargets } from '../pipeline/starter';
import type { Pipeline } from '../services';

interface WebhookDeps {
  pipelines: (env: Env) => Pipeline;
  /** Gets the Management API token ready for the runs about to start (see {@link StarterTargets.prepare}). */
  prepare: (env: Env) => Promise<unknown>;
  starter: ReturnType<typeof createRunStarter>;
  now: () => number;
}

/**
 * `POST /webhooks/logto`: verify → record → answer. The run is started after the answer (coalesced into
 * `createBatch` calls under `waitUntil`); the cron restart covers a start that never happened.
 */
export function mountWebhookRoutes(app: Hono<{ Bindings: Env }>, deps: WebhookDeps) {
  const targetsOf = (env: Env, journal: StarterTargets['journal']): StarterTargets => ({
    workflow: env.EVENT_WORKFLOW,
    journal,
    prepare: () => deps.prepare(env),
  });
  app.post('/webhooks/logto', async (c) => {
    const { config, journal, automations, dryRun } = deps.pipelines(c.env);
    const outcome = await ingestLogtoDelivery({
      body: c.req.raw.body,
      contentLength: c.req.header('content-length') ?? null,
      signature: c.req.header('logto-signature-sha-256') ?? null,
      config,
      journal,
      now: deps.now,
      plan: (input) => planFor(automations, input, dryRun),
    });
    if (outcome.start) c.executionCtx.waitUntil(deps.starter(targetsOf(c.env, journal), outcome.start));
    return c.json(outcome.body, outcome.status);
  });

  /** `POST /callbacks/:provider` (stripe, github, standard-webhooks): verify → record → answer, like Logto's. */
  app.post('/callbacks/:provider', async (c) => {
    const { config, journal, automations } = deps.pipelines(c.env);
    const outcome = await ingestCallback({
      provider: c.req.param('provider'),
      body: c.req.raw.body,
      contentLength: c.req.header('content-length') ?? null,
      header: (name) => c.req.header(name) ?? null,
      config,
      journal,
      now: deps.now,
      wanted: (input) => automations.some((automation) => automation.wants(input)),
    });
    if (outcome.start) c.executionCtx.waitUntil(deps.starter(targetsOf(c.env, journal), outcome.start));
    return c.json(outcome.body, outcome.status);
  });
}
