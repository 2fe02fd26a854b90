import { paginate } from './paginate';
import type { Requester } from './request';
import type { OrganizationRole, Role } from './types';

/** Role lookups by name are cached this long per client (roles rarely change; names are unique per tenant). */
export const ROLE_CACHE_TTL_MS = 5 * 60_000;

function createNameCache<T>(now: () => number, load: (name: string) => Promise<T | undefined>) {
  const cache = new Map<string, { value: T; at: number }>();
  // Single flight: concurrent lookups of one name (a burst of runs starting together) share one request.
  const inFlight = new Map<string, Promise<T | undefined>>();
  return async (name: string): Promise<T | undefined> => {
    const hit = cache.get(name);
    if (hit && now() - hit.at < ROLE_CACHE_TTL_MS) return hit.value;
    let pending = inFlight.get(name);
    if (!pending) {
      pending = load(name).finally(() => inFlight.delete(name));
      inFlight.set(name, pending);
    }
    const value = await pending;
    if (value === undefined) cache.delete(name);
    else cache.set(name, { value, at: now() });
    return value;
  };
}

/** Role and organization-role routes, with cached lookups by name. */
export function createRolesApi(request: Requester, now: () => number) {
  const findRole = createNameCache(now, async (name) => {
    const query = new URLSearchParams({ 'search.name': name, 'mode.name': 'exact', isCaseSensitive: 'true' });
    for await (const role of paginate<Role>(request, '/roles', query)) if (role.name === name) return role;
    return undefined;
  });
  const findOrganizationRole = createNameCache(now, async (name) => {
    const query = new URLSearchParams({ q: name });
    for await (const role of paginate<OrganizationRole>(request, '/organization-roles', query)) {
      if (role.name === name) return role;
    }
    return undefined;
  });
  return {
    roles: {
      /** `GET /api/roles` over every page; `type` filters User or MachineToMachine roles. */
      list: (filter: { type?: 'User' | 'MachineToMachine' } = {}) =>
        paginate<Role>(request, '/roles', new URLSearchParams(filter.type ? { type: filter.type } : {})),
      /** The role with exactly this name, or undefined. Cached for {@link ROLE_CACHE_TTL_MS}. */
      findByName: findRole,
    },
    organizationRoles: {
      list: () => paginate<OrganizationRole>(request, '/organization-roles'),
      /** The organization role with exactly this name, or undefined. Cached for {@link ROLE_CACHE_TTL_MS}. */
      findByName: findOrganizationRole,
    },
  };
}
