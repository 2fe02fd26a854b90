import type { Context, Hono } from 'hono';
import { generateId, isStringArray, logtoError, paginated, readJson } from './http';
import type { EmulatedRole, EmulatedUser, TenantStore } from './store';
import { parseUserSearch } from './user-search';

export interface UserRoutesOptions {
  store: TenantStore;
  now: () => number;
  /** Called after a user is created through the Management API (webhooks hang off this). */
  onUserCreated?: (user: EmulatedUser, c: Context) => void;
}

const userNotFound = (c: Context) =>
  logtoError(c, 404, 'entity.not_found', 'The requested entity does not exist.');
const notExists = (c: Context, id: string) =>
  logtoError(c, 404, 'entity.not_exists_with_id', `The entity with ID \`${id}\` does not exist.`, { id });
const nullableString = (value: unknown) => (typeof value === 'string' ? value : null);

export function newUser(input: Record<string, unknown>, now: number, id = generateId(12)): EmulatedUser {
  return {
    id,
    username: nullableString(input.username),
    primaryEmail: nullableString(input.primaryEmail),
    primaryPhone: nullableString(input.primaryPhone),
    name: nullableString(input.name),
    avatar: nullableString(input.avatar),
    customData: (input.customData as Record<string, unknown>) ?? {},
    identities: (input.identities as EmulatedUser['identities']) ?? {},
    lastSignInAt: null,
    createdAt: now,
    updatedAt: now,
    profile: (input.profile as Record<string, unknown>) ?? {},
    applicationId: nullableString(input.applicationId),
    cimdClientId: null,
    isSuspended: false,
    hasPassword: typeof input.password === 'string',
  };
}

function conflict(store: TenantStore, input: Record<string, unknown>): string | undefined {
  for (const user of store.users.values()) {
    if (input.username && user.username?.toLowerCase() === String(input.username).toLowerCase()) {
      return 'user.username_already_in_use';
    }
    if (input.primaryEmail && user.primaryEmail?.toLowerCase() === String(input.primaryEmail).toLowerCase()) {
      return 'user.email_already_in_use';
    }
  }
  return undefined;
}

/** Users, user roles and roles, with Logto's status codes and idempotency rules. */
export function mountUserRoutes(api: Hono, options: UserRoutesOptions): void {
  const { store, now } = options;

  api.get('/users', (c) => {
    const query = new URL(c.req.url).searchParams;
    if (query.has('excludeRoleId') && query.has('excludeOrganizationId')) {
      return logtoError(
        c,
        400,
        'request.invalid_input',
        'excludeRoleId and excludeOrganizationId cannot be combined',
      );
    }
    const filter = parseUserSearch(query);
    if (!filter.ok) return logtoError(c, 400, 'request.invalid_input', filter.message);
    const excludedRole = query.get('excludeRoleId');
    const excludedOrg = query.get('excludeOrganizationId');
    const users = [...store.users.values()]
      .filter(filter.test)
      .filter((user) => !excludedRole || !store.userRoles.get(user.id)?.has(excludedRole))
      .filter((user) => !excludedOrg || !store.members.get(excludedOrg)?.has(user.id))
      .sort((a, b) => b.createdAt - a.createdAt);
    return paginated(c, users);
  });
  api.post('/users', async (c) => {
    const input = await readJson(c);
    if (input instanceof Response) return input;
    const taken = conflict(store, input);
    if (taken) return logtoError(c, 422, taken, 'This identifier is already in use.');
    const user = newUser(input, now());
    store.users.set(user.id, user);
    options.onUserCreated?.(user, c);
    return c.json(user, 200); // a real Logto answers 200, not 201 (logto-reference.md §0)
  });
  api.get('/users/:userId', (c) => {
    const user = store.users.get(c.req.param('userId'));
    return user ? c.json(user) : userNotFound(c);
  });
  api.patch('/users/:userId/custom-data', async (c) => {
    const user = store.users.get(c.req.param('userId'));
    if (!user) return userNotFound(c);
    const input = await readJson(c);
    if (input instanceof Response) return input;
    const patch = input.customData;
    if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
      return logtoError(c, 400, 'guard.invalid_input', 'customData must be an object.');
    }
    user.customData = { ...user.customData, ...(patch as Record<string, unknown>) }; // jsonb `||`: shallow
    user.updatedAt = now();
    return c.json(user.customData);
  });
  api.patch('/users/:userId/is-suspended', async (c) => {
    const user = store.users.get(c.req.param('userId'));
    if (!user) return userNotFound(c);
    const input = await readJson(c);
    if (input instanceof Response) return input;
    if (typeof input.isSuspended !== 'boolean') {
      return logtoError(c, 400, 'guard.invalid_input', 'isSuspended must be a boolean.');
    }
    user.isSuspended = input.isSuspended;
    user.updatedAt = now();
    return c.json(user);
  });
  api.delete('/users/:userId', (c) => {
    const id = c.req.param('userId');
    if (!store.users.delete(id)) return userNotFound(c);
    store.userRoles.delete(id);
    for (const members of store.members.values()) members.delete(id);
    return c.body(null, 204);
  });
  api.get('/users/:userId/roles', (c) => {
    const id = c.req.param('userId');
    if (!store.users.has(id)) return userNotFound(c);
    const roles = [...(store.userRoles.get(id) ?? [])].map((roleId) => store.roles.get(roleId));
    return paginated(
      c,
      roles.filter((role): role is EmulatedRole => role !== undefined),
    );
  });
  api.post('/users/:userId/roles', async (c) => {
    const id = c.req.param('userId');
    if (!store.users.has(id)) return userNotFound(c);
    const input = await readJson(c);
    if (input instanceof Response) return input;
    if (!isStringArray(input.roleIds))
      return logtoError(c, 400, 'guard.invalid_input', 'roleIds is required.');
    // Logto ≤ 1.42 answers 500 to an empty relation list (reference §0.1).
    if (input.roleIds.length === 0) return logtoError(c, 500, 'unknown', 'Internal server error.');
    for (const roleId of input.roleIds) {
      const role = store.roles.get(roleId);
      if (!role) return notExists(c, roleId);
      if (role.type !== 'User') return logtoError(c, 422, 'user.invalid_role_type', 'Invalid role type.');
    }
    const held = store.userRoles.get(id) ?? new Set<string>();
    store.userRoles.set(id, held);
    const added = [...new Set(input.roleIds)].filter((roleId) => !held.has(roleId)); // existing rows are skipped
    for (const roleId of added) held.add(roleId);
    return c.json({ roleIds: input.roleIds, addedRoleIds: added }, 201);
  });
  api.delete('/users/:userId/roles/:roleId', (c) => {
    const id = c.req.param('userId');
    if (!store.users.has(id)) return userNotFound(c);
    // Logto: deleting a role the user does not have deletes no row → DeletionError (404 entity.not_found).
    if (!store.userRoles.get(id)?.delete(c.req.param('roleId'))) {
      return logtoError(c, 404, 'entity.not_found', 'The requested entity was not found.');
    }
    return c.body(null, 204);
  });

  api.get('/roles', (c) => {
    const type = c.req.query('type');
    const filter = parseRoleSearch(new URL(c.req.url).searchParams);
    const roles = [...store.roles.values()].filter((role) => (!type || role.type === type) && filter(role));
    return paginated(c, roles);
  });
  api.post('/roles', async (c) => {
    const input = await readJson(c);
    if (input instanceof Response) return input;
    if (typeof input.name !== 'string' || typeof input.description !== 'string') {
      return logtoError(c, 400, 'guard.invalid_input', 'name and description are required.');
    }
    if ([...store.roles.values()].some((role) => role.name === input.name)) {
      return logtoError(c, 422, 'role.name_in_use', `This role name ${input.name} is already in use`);
    }
    const type = input.type === 'MachineToMachine' ? 'MachineToMachine' : 'User';
    const role: EmulatedRole = {
      tenantId: 'default',
      id: generateId(21),
      name: input.name,
      description: input.description,
      type,
      isDefault: input.isDefault === true,
    };
    store.roles.set(role.id, role);
    return c.json(role, 200);
  });
  api.get('/roles/:id', (c) => {
    const role = store.roles.get(c.req.param('id'));
    return role ? c.json(role) : notExists(c, c.req.param('id'));
  });
}

/** Role search: `search` / `search.name` with `mode.name=exact` and `isCaseSensitive`, as the client sends it. */
function parseRoleSearch(query: URLSearchParams): (role: EmulatedRole) => boolean {
  const wanted = query.get('search.name') ?? query.get('search');
  if (wanted === null) return () => true;
  const exact = (query.get('mode.name') ?? query.get('mode')) === 'exact';
  const caseSensitive = query.get('isCaseSensitive') === 'true';
  const fold = (text: string) => (caseSensitive ? text : text.toLowerCase());
  return (role) => {
    if (exact) return fold(role.name) === fold(wanted);
    const needle = fold(wanted).replaceAll('%', '');
    return fold(role.name).includes(needle) || fold(role.description).includes(needle);
  };
}
