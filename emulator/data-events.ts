import type { Context, MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';

/**
 * The data events Logto fires for Management API writes (L `managementApiHooksRegistration` and the membership routes;
 * shapes as logto-reference §0 observed them): `data` is the response body; `path` has no `/api` prefix;
 * `Organization.Membership.Updated` has no `data`, `organizationId` and, when non-empty, `addedUserIds`.
 */
const EVENTS: Record<string, string> = {
  'POST /api/roles': 'Role.Created',
  'POST /api/organizations': 'Organization.Created',
  'POST /api/organizations/:id/users': 'Organization.Membership.Updated',
};

/** Middleware after the route: emits the event of a successful write, as Logto does once the request completed. */
export function dataEvents(
  emit: (payload: Record<string, unknown>) => unknown,
  iso: () => string,
): MiddlewareHandler {
  return async (c: Context, next) => {
    await next();
    const route = `${c.req.method} ${routePath(c, -1)}`;
    const event = EVENTS[route];
    if (!event || c.res.status >= 300) return;
    const context = {
      event,
      createdAt: iso(),
      userAgent: c.req.header('user-agent') ?? '',
      ip: '127.0.0.1',
      path: c.req.path.replace(/^\/api/, ''),
      method: c.req.method,
      status: c.res.status,
      params: c.req.param() as Record<string, string>,
      matchedRoute: routePath(c, -1).replace(/^\/api/, ''),
    };
    if (event === 'Organization.Membership.Updated') {
      const body = (await c.req.json().catch(() => ({}))) as { userIds?: string[] };
      void emit({ ...context, organizationId: c.req.param('id'), addedUserIds: body.userIds ?? [] });
      return;
    }
    void emit({ ...context, data: await c.res.clone().json() });
  };
}
