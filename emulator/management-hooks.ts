import type { Hono } from 'hono';
import { logtoError, paginated } from './http';
import type { WebhookSender } from './webhooks';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Webhook configuration and Logto's hook log (L `routes/hook.ts`; shapes observed on a real 1.42, logto-reference
 * §0.1): `GET /hooks` lists the hooks, `GET /hooks/:id/recent-logs` one entry per delivery attempt, newest first,
 * filtered by `logKey` and `start_time`/`end_time` (epoch ms; without either, the last 24 h), paginated with
 * `Total-Number`.
 */
export function mountHookRoutes(api: Hono, options: { webhooks: WebhookSender; now: () => number }): void {
  const { webhooks } = options;
  const toHook = (hook: WebhookSender['hooks'][number]) => ({
    tenantId: 'default',
    id: hook.id,
    name: hook.id,
    event: null,
    events: hook.events,
    config: { url: hook.url },
    signingKey: hook.signingKey,
    enabled: true,
    createdAt: 0,
  });
  api.get('/hooks', (c) => paginated(c, webhooks.hooks.map(toHook), true));
  api.get('/hooks/:id', (c) => {
    const hook = webhooks.hooks.find((item) => item.id === c.req.param('id'));
    return hook
      ? c.json(toHook(hook))
      : logtoError(c, 404, 'entity.not_exists_with_id', 'The entity with id does not exist.');
  });
  api.get('/hooks/:id/recent-logs', (c) => {
    const id = c.req.param('id');
    if (!webhooks.hooks.some((hook) => hook.id === id))
      return logtoError(c, 404, 'entity.not_exists_with_id', 'The entity with id does not exist.');
    const startRaw = c.req.query('start_time');
    const endRaw = c.req.query('end_time');
    const bounded = startRaw !== undefined || endRaw !== undefined;
    const start = bounded ? Number(startRaw ?? 0) : options.now() - DAY_MS;
    const end = bounded ? Number(endRaw ?? Number.MAX_SAFE_INTEGER) : Number.MAX_SAFE_INTEGER;
    if (!Number.isFinite(start) || !Number.isFinite(end))
      return logtoError(c, 400, 'guard.invalid_input', 'The request input is invalid.');
    const logKey = c.req.query('logKey');
    const entries = webhooks.log
      .filter(
        (entry) =>
          entry.payload.hookId === id &&
          entry.createdAt >= start &&
          entry.createdAt <= end &&
          (logKey === undefined || entry.key === logKey),
      )
      .reverse();
    return paginated(c, entries);
  });
}
