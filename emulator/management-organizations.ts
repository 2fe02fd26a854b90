import type { Context, Hono } from 'hono';
import { generateId, isStringArray, logtoError, paginated, readJson } from './http';
import type { EmulatedOrganization, EmulatedOrganizationRole, TenantStore } from './store';

const notExists = (c: Context, id: string) =>
  logtoError(c, 404, 'entity.not_exists_with_id', `The entity with ID \`${id}\` does not exist.`, { id });
const foreignKey = (c: Context) =>
  logtoError(c, 422, 'entity.relation_foreign_key_not_found', 'Cannot find one or more foreign keys.');

/** Organizations, memberships, member roles, organization roles and JIT email domains. */
export function mountOrganizationRoutes(api: Hono, options: { store: TenantStore; now: () => number }): void {
  const { store, now } = options;

  api.get('/organizations', (c) => {
    const q = c.req.query('q')?.toLowerCase();
    const list = [...store.organizations.values()]
      .filter((org) => !q || org.id.toLowerCase().includes(q) || org.name.toLowerCase().includes(q))
      .sort((a, b) => b.createdAt - a.createdAt);
    return paginated(c, list, true);
  });
  api.post('/organizations', async (c) => {
    const input = await readJson(c);
    if (input instanceof Response) return input;
    if (typeof input.name !== 'string' || input.name.length === 0) {
      return logtoError(c, 400, 'guard.invalid_input', 'name is required.');
    }
    // Names are not unique in Logto: a second POST with the same name creates a second organization.
    const org: EmulatedOrganization = {
      tenantId: 'default',
      id: generateId(12),
      name: input.name,
      description: typeof input.description === 'string' ? input.description : null,
      customData: (input.customData as Record<string, unknown>) ?? {},
      isMfaRequired: input.isMfaRequired === true,
      color: {},
      branding: {},
      customCss: null,
      createdAt: now(),
    };
    store.organizations.set(org.id, org);
    return c.json(org, 201);
  });
  api.get('/users/:userId/organizations', (c) => {
    const userId = c.req.param('userId');
    if (!store.users.has(userId)) return logtoError(c, 404, 'entity.not_found', 'The user does not exist.');
    const orgs = [...store.organizations.values()]
      .filter((org) => store.members.get(org.id)?.has(userId))
      .map((org) => ({
        ...org,
        organizationRoles: [...(store.memberRoles.get(`${org.id}:${userId}`) ?? [])].flatMap((id) => {
          const role = store.organizationRoles.get(id);
          return role ? [{ id: role.id, name: role.name }] : [];
        }),
      }));
    return c.json(orgs);
  });
  api.get('/logs', (c) => {
    const userId = c.req.query('userId');
    const applicationId = c.req.query('applicationId');
    const logKey = c.req.query('logKey');
    const entries = store.logs
      .filter(
        (entry) =>
          (!userId || entry.payload.userId === userId) &&
          (!applicationId || entry.payload.applicationId === applicationId) &&
          (!logKey || entry.key === logKey),
      )
      .slice()
      .reverse();
    return paginated(c, entries);
  });
  api.get('/organizations/:id', (c) => {
    const org = store.organizations.get(c.req.param('id'));
    return org ? c.json(org) : notExists(c, c.req.param('id'));
  });
  api.get('/organizations/:id/users', (c) => {
    const id = c.req.param('id');
    if (!store.organizations.has(id)) return notExists(c, id);
    const users = [...(store.members.get(id) ?? [])].flatMap((userId) => store.users.get(userId) ?? []);
    return paginated(c, users, true);
  });
  api.post('/organizations/:id/users', async (c) => {
    const id = c.req.param('id');
    const input = await readJson(c);
    if (input instanceof Response) return input;
    if (!isStringArray(input.userIds) || input.userIds.length === 0) {
      return logtoError(c, 400, 'guard.invalid_input', 'userIds must be a non-empty array.');
    }
    if (!store.organizations.has(id) || input.userIds.some((userId) => !store.users.has(userId))) {
      return foreignKey(c);
    }
    const members = store.members.get(id) ?? new Set<string>();
    store.members.set(id, members);
    for (const userId of input.userIds) members.add(userId); // ON CONFLICT DO NOTHING
    return c.json({ userIds: input.userIds }, 201);
  });
  api.delete('/organizations/:id/users/:userId', (c) => {
    const id = c.req.param('id');
    const userId = c.req.param('userId');
    if (!store.members.get(id)?.delete(userId)) {
      return logtoError(c, 404, 'entity.not_found', 'The requested entity was not found.');
    }
    store.memberRoles.delete(`${id}:${userId}`);
    return c.body(null, 204);
  });
  api.get('/organizations/:id/users/:userId/roles', (c) => {
    const key = `${c.req.param('id')}:${c.req.param('userId')}`;
    const roles = [...(store.memberRoles.get(key) ?? [])].flatMap(
      (roleId) => store.organizationRoles.get(roleId) ?? [],
    );
    return paginated(c, roles, true);
  });
  api.post('/organizations/:id/users/:userId/roles', async (c) => {
    const id = c.req.param('id');
    const userId = c.req.param('userId');
    const input = await readJson(c);
    if (input instanceof Response) return input;
    const ids = isStringArray(input.organizationRoleIds) ? input.organizationRoleIds : [];
    const names = isStringArray(input.organizationRoleNames) ? input.organizationRoleNames : [];
    // Logto ≤ 1.42 answers 500 to an empty relation list (reference §0.1).
    if (ids.length === 0 && names.length === 0)
      return logtoError(c, 500, 'unknown', 'Internal server error.');
    if (!store.members.get(id)?.has(userId)) {
      return logtoError(
        c,
        422,
        'organization.require_membership',
        'The user must be a member of the organization.',
      );
    }
    const byName = new Map([...store.organizationRoles.values()].map((role) => [role.name, role.id]));
    const missingNames = names.filter((name) => !byName.has(name));
    if (missingNames.length > 0) {
      return logtoError(
        c,
        422,
        'organization.role_names_not_found',
        `Role names not found: ${missingNames.join(', ')}`,
        {
          roleNames: missingNames,
        },
      );
    }
    if (ids.some((roleId) => !store.organizationRoles.has(roleId))) return foreignKey(c);
    const wanted = [...ids, ...names.map((name) => byName.get(name) as string)];
    const held = store.memberRoles.get(`${id}:${userId}`) ?? new Set<string>();
    store.memberRoles.set(`${id}:${userId}`, held);
    for (const roleId of wanted) held.add(roleId);
    return c.json({ organizationRoleIds: wanted }, 201);
  });
  mountJitRoutes(api, store);
  mountOrganizationRoleRoutes(api, store);
}

function mountJitRoutes(api: Hono, store: TenantStore): void {
  api.get('/organizations/:id/jit/email-domains', (c) => {
    const id = c.req.param('id');
    const domains = [...(store.jitEmailDomains.get(id) ?? [])].map((emailDomain) => ({
      organizationId: id,
      emailDomain,
    }));
    return paginated(c, domains, true);
  });
  api.post('/organizations/:id/jit/email-domains', async (c) => {
    const id = c.req.param('id');
    const input = await readJson(c);
    if (input instanceof Response) return input;
    if (typeof input.emailDomain !== 'string')
      return logtoError(c, 400, 'guard.invalid_input', 'emailDomain required.');
    if (!store.organizations.has(id)) return foreignKey(c);
    const domains = store.jitEmailDomains.get(id) ?? new Set<string>();
    store.jitEmailDomains.set(id, domains);
    if (domains.has(input.emailDomain)) {
      return logtoError(c, 422, 'entity.unique_integrity_violation', 'The entity already exists.');
    }
    domains.add(input.emailDomain);
    return c.json({ organizationId: id, emailDomain: input.emailDomain }, 201);
  });
  api.delete('/organizations/:id/jit/email-domains/:emailDomain', (c) => {
    const removed = store.jitEmailDomains.get(c.req.param('id'))?.delete(c.req.param('emailDomain'));
    return removed
      ? c.body(null, 204)
      : logtoError(c, 404, 'entity.not_found', 'The requested entity does not exist.');
  });
}

function mountOrganizationRoleRoutes(api: Hono, store: TenantStore): void {
  api.get('/organization-roles', (c) => {
    const q = c.req.query('q')?.toLowerCase();
    const roles = [...store.organizationRoles.values()].filter(
      (role) => !q || role.id.toLowerCase().includes(q) || role.name.toLowerCase().includes(q),
    );
    return paginated(c, roles, true);
  });
  api.post('/organization-roles', async (c) => {
    const input = await readJson(c);
    if (input instanceof Response) return input;
    if (typeof input.name !== 'string') return logtoError(c, 400, 'guard.invalid_input', 'name is required.');
    if ([...store.organizationRoles.values()].some((role) => role.name === input.name)) {
      return logtoError(c, 422, 'entity.unique_integrity_violation', 'The entity already exists.');
    }
    const role: EmulatedOrganizationRole = {
      tenantId: 'default',
      id: generateId(21),
      name: input.name,
      description: typeof input.description === 'string' ? input.description : null,
      type: input.type === 'MachineToMachine' ? 'MachineToMachine' : 'User',
    };
    store.organizationRoles.set(role.id, role);
    return c.json(role, 201);
  });
  api.get('/organization-roles/:id', (c) => {
    const role = store.organizationRoles.get(c.req.param('id'));
    return role ? c.json(role) : notExists(c, c.req.param('id'));
  });
}
