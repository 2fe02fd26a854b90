import type { Context, Hono } from 'hono';
import type { Pipeline } from '../composition';
import { log } from '../log';
import { type IngestOutcome, ingestCallback, ingestLogtoDelivery } from '../pipeline';

interface WebhookDeps {
  pipelines: (env: Env) => Pipeline;
  now: () => number;
}

/** The context of a route at `Path` (its path parameters typed). */
type WebhookContext<Path extends string> = Context<{ Bindings: Env }, Path>;

/**
 * `POST /webhooks/logto`: verify → record → answer; the run is handed to the starter after the answer. Also
 * `POST /callbacks/:provider` (stripe, github, standard-webhooks), the same way.
 */
export function mountWebhookRoutes(app: Hono<{ Bindings: Env }>, deps: WebhookDeps) {
  /**
   * A route that ingests with the pipeline of its `env` and answers; after the answer, a new event's run is handed to
   * the run starter (a Durable Object that owns the batch).
   */
  const ingress =
    <Path extends string>(ingest: (pipeline: Pipeline, c: WebhookContext<Path>) => Promise<IngestOutcome>) =>
    async (c: WebhookContext<Path>) => {
      const pipeline = deps.pipelines(c.env);
      const outcome = await ingest(pipeline, c);
      if (outcome.start) {
        const start = pipeline.enqueue.start().catch((error: Error) => {
          // Not lost: the event is `received` in the journal and the journal cron starts it within minutes.
          log('warn', 'starter.handover_failed', { error: error.name, note: 'left for the journal cron' });
        });
        c.executionCtx.waitUntil(start);
      }
      return c.json(outcome.body, outcome.status);
    };

  app.post(
    '/webhooks/logto',
    ingress(({ config, enqueue, plan }, c) =>
      ingestLogtoDelivery({ request: c.req.raw, config, enqueue, now: deps.now, plan }),
    ),
  );

  app.post(
    '/callbacks/:provider',
    ingress<'/callbacks/:provider'>(({ config, enqueue, automations }, c) =>
      ingestCallback({
        provider: c.req.param('provider'),
        request: c.req.raw,
        config,
        enqueue,
        now: deps.now,
        wanted: (input) => automations.some((automation) => automation.wants(input)),
      }),
    ),
  );
}
