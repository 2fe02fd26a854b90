import type { Context, Hono } from 'hono';
import { logtoError, paginated, readJson } from './http';
import type { EmulatedHook, WebhookSender } from './webhooks';

const DAY_MS = 24 * 60 * 60 * 1000;

/** The event names a real 1.42 accepts in `events` (logto-reference §0; the OpenAPI's `HookEvent` enum). */
export const HOOK_EVENTS: readonly string[] = [
  'PostRegister',
  'PostSignIn',
  'PostSignInAdaptiveMfaTriggered',
  'PostResetPassword',
  ...['User.Created', 'User.Deleted', 'User.Data.Updated', 'User.SuspensionStatus.Updated'],
  ...['Role.Created', 'Role.Deleted', 'Role.Data.Updated', 'Role.Scopes.Updated'],
  ...['Scope.Created', 'Scope.Deleted', 'Scope.Data.Updated'],
  ...['Organization.Created', 'Organization.Deleted', 'Organization.Data.Updated'],
  'Organization.Membership.Updated',
  ...['OrganizationRole.Created', 'OrganizationRole.Deleted', 'OrganizationRole.Data.Updated'],
  'OrganizationRole.Scopes.Updated',
  ...['OrganizationScope.Created', 'OrganizationScope.Deleted', 'OrganizationScope.Data.Updated'],
  ...['Identifier.Lockout', 'Message.RateLimited', 'Grant.LimitExceeded'],
];

const SECRET_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A signing key like Logto's `generateStandardSecret()`: 32 characters of [0-9A-Za-z] (logto-reference §1.3). */
export function generateSigningKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return [...bytes].map((byte) => SECRET_ALPHABET[byte % SECRET_ALPHABET.length]).join('');
}

/** The hook as Logto's `Hooks.guard` returns it (OpenAPI `GetHook`): `config` holds only what was given. */
const toHook = (hook: EmulatedHook) => ({
  tenantId: 'default',
  id: hook.id,
  name: hook.name,
  event: hook.event,
  events: hook.events,
  config: {
    url: hook.url,
    ...(hook.headers ? { headers: hook.headers } : {}),
    ...(hook.retries !== undefined ? { retries: hook.retries } : {}),
  },
  signingKey: hook.signingKey,
  enabled: hook.enabled,
  createdAt: hook.createdAt,
});

type HookFields = Partial<Pick<EmulatedHook, 'name' | 'events' | 'event' | 'enabled' | 'url' | 'headers'>> & {
  retries?: number;
  hasConfig: boolean;
};

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Logto's body guard for `POST`/`PATCH /hooks` (L `routes/hook.ts`): `name` 1–256 characters, `events` a non-empty
 * list of known names (deduplicated), `event` one name (null allowed on PATCH), `config` `{url, headers?, retries?}`
 * replacing the whole object, `enabled` a boolean. Undefined when the body breaks it (400 `guard.invalid_input`).
 */
function hookFields(body: Record<string, unknown>): HookFields | undefined {
  const { name, events, event, enabled, config } = body;
  if (name !== undefined && (typeof name !== 'string' || name.length < 1 || name.length > 256))
    return undefined;
  if (
    events !== undefined &&
    !(Array.isArray(events) && events.length > 0 && events.every((item) => HOOK_EVENTS.includes(item)))
  )
    return undefined;
  if (event !== undefined && event !== null && !HOOK_EVENTS.includes(event as string)) return undefined;
  if (enabled !== undefined && typeof enabled !== 'boolean') return undefined;
  const fields: HookFields = { hasConfig: config !== undefined };
  if (config !== undefined) {
    if (!isRecord(config) || typeof config.url !== 'string') return undefined;
    const { headers, retries } = config;
    if (
      headers !== undefined &&
      !(isRecord(headers) && Object.values(headers).every((v) => typeof v === 'string'))
    )
      return undefined;
    if (retries !== undefined && typeof retries !== 'number') return undefined;
    Object.assign(fields, { url: config.url, headers, retries });
  }
  if (name !== undefined) fields.name = name as string;
  if (events !== undefined) fields.events = [...new Set(events as string[])];
  if (event !== undefined) fields.event = event as string | null;
  if (enabled !== undefined) fields.enabled = enabled as boolean;
  return fields;
}

const invalid = (c: Context) => logtoError(c, 400, 'guard.invalid_input', 'The request input is invalid.');
/** An update of an unknown row: Logto's `UpdateError` becomes 400 `entity.not_exists` (L `koa-slonik-error-handler`). */
const notExists = (c: Context) => logtoError(c, 400, 'entity.not_exists', 'The hook does not exist.');

/**
 * Webhook configuration and Logto's hook log (L `routes/hook.ts`; shapes observed on a real 1.42, logto-reference
 * §0.1 and §1.5): `GET /hooks` lists the hooks; `POST /hooks` creates one (201, with its signing key; enabled unless
 * told otherwise); `PATCH /hooks/:id` replaces the fields given; `PATCH /hooks/:id/signing-key` regenerates the key
 * (deliveries from then on are signed with it); `DELETE /hooks/:id` (204); `GET /hooks/:id/recent-logs` one entry per
 * delivery attempt, newest first, filtered by `logKey` and `start_time`/`end_time` (epoch ms; without either, the last
 * 24 h), paginated with `Total-Number`. Hook routes fire no webhook of their own.
 */
export function mountHookRoutes(api: Hono, options: { webhooks: WebhookSender; now: () => number }): void {
  const { webhooks } = options;
  const find = (c: Context) => webhooks.hooks.find((item) => item.id === c.req.param('id'));
  api.get('/hooks', (c) => paginated(c, webhooks.hooks.map(toHook), true));
  api.post('/hooks', async (c) => {
    const body = await readJson(c);
    if (body instanceof Response) return body;
    const fields = hookFields(body);
    if (!fields?.hasConfig || fields.event === null) return invalid(c);
    if (!fields.events && !fields.event)
      return logtoError(c, 400, 'hook.missing_events', 'Hook events are missing.');
    const { hasConfig: _, url, ...rest } = fields;
    const hook = webhooks.add({ ...rest, url: url as string, signingKey: generateSigningKey() });
    return c.json(toHook(hook), 201);
  });
  api.get('/hooks/:id', (c) => {
    const hook = find(c);
    return hook
      ? c.json(toHook(hook))
      : logtoError(c, 404, 'entity.not_exists_with_id', 'The entity with id does not exist.');
  });
  api.patch('/hooks/:id', async (c) => {
    const body = await readJson(c);
    if (body instanceof Response) return body;
    const fields = hookFields(body);
    if (!fields) return invalid(c);
    const hook = find(c);
    if (!hook) return notExists(c);
    const { hasConfig, ...rest } = fields;
    // jsonb fields are replaced, not merged (§1.5): a new `config` drops headers it does not repeat.
    if (hasConfig) Object.assign(hook, { headers: undefined, retries: undefined });
    for (const [key, value] of Object.entries(rest))
      if (value !== undefined) Object.assign(hook, { [key]: value });
    return c.json(toHook(hook));
  });
  api.patch('/hooks/:id/signing-key', (c) => {
    const hook = find(c);
    if (!hook) return notExists(c);
    hook.signingKey = generateSigningKey();
    return c.json(toHook(hook));
  });
  api.delete('/hooks/:id', (c) =>
    webhooks.remove(c.req.param('id'))
      ? c.body(null, 204)
      : logtoError(c, 404, 'entity.not_found', 'The resource does not exist.'),
  );
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
