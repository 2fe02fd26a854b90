import type { Hono } from 'hono';
import type { Pipeline } from '../composition';
import { log } from '../log';
import { type IngestOutcome, ingestCallback, ingestLogtoDelivery, planFor } from '../pipeline';

interface WebhookDeps {
  pipelines: (env: Env) => Pipeline;
  now: () => number;
}

/** After the answer, hands the new event's run to the run starter (a Durable Object that owns the batch). */
function handOver(
  c: { executionCtx: { waitUntil(promise: Promise<unknown>): void } },
  pipeline: Pipeline,
  outcome: IngestOutcome,
) {
  if (!outcome.start) return;
  const start = pipeline.enqueue.start().catch((error: Error) => {
    // Not lost: the event is `received` in the journal and the journal cron starts it within minutes.
    log('warn', 'starter.handover_failed', { error: error.name, note: 'left for the journal cron' });
  });
  c.executionCtx.waitUntil(start);
}

/**
 * `POST /webhooks/logto`: verify → record → answer; the run is handed to the starter after the answer. Also
 * `POST /callbacks/:provider` (stripe, github, standard-webhooks), the same way.
 */
export function mountWebhookRoutes(app: Hono<{ Bindings: Env }>, deps: WebhookDeps) {
  app.post('/webhooks/logto', async (c) => {
    const pipeline = deps.pipelines(c.env);
    const { config, enqueue, automations, dryRun } = pipeline;
    const outcome = await ingestLogtoDelivery({
      body: c.req.raw.body,
      contentLength: c.req.header('content-length') ?? null,
      signature: c.req.header('logto-signature-sha-256') ?? null,
      config,
      enqueue,
      now: deps.now,
      plan: (input) => planFor(automations, input, dryRun),
    });
    handOver(c, pipeline, outcome);
    return c.json(outcome.body, outcome.status);
  });

  app.post('/callbacks/:provider', async (c) => {
    const pipeline = deps.pipelines(c.env);
    const { config, enqueue, automations } = pipeline;
    const outcome = await ingestCallback({
      provider: c.req.param('provider'),
      body: c.req.raw.body,
      contentLength: c.req.header('content-length') ?? null,
      header: (name) => c.req.header(name) ?? null,
      config,
      enqueue,
      now: deps.now,
      wanted: (input) => automations.some((automation) => automation.wants(input)),
    });
    handOver(c, pipeline, outcome);
    return c.json(outcome.body, outcome.status);
  });
}
