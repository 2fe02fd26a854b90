import { createValueFlight } from '../value-flight';
import { paginate } from './paginate';
import type { Requester } from './request';
import type { OrganizationRole, Role } from './types';

/** Role lookups by name are cached this long per client (roles rarely change; names are unique per tenant). */
export const ROLE_CACHE_TTL_MS = 5 * 60_000;

/**
 * Lookups by name that keep resolved values only. Concurrent lookups of one name wait for the first one's value by
 * polling (src/value-flight) instead of sharing its promise; when it fails (401, 5xx), each waiting caller looks the
 * name up by itself, so one failed request does not fail every run that happened to wait on it.
 */
function createNameCache<T>(now: () => number, load: (name: string) => Promise<T | undefined>) {
  const cache = new Map<string, { value: T; at: number }>();
  const flights = new Map<string, ReturnType<typeof createValueFlight>>();
  return async (name: string): Promise<T | undefined> => {
    const fresh = (): { value: T | undefined } | undefined => {
      const hit = cache.get(name);
      return hit && now() - hit.at < ROLE_CACHE_TTL_MS ? { value: hit.value } : undefined;
    };
    let flight = flights.get(name);
    if (!flight) {
      // The first lookup may wait its turn at the rate governor for seconds: wait for it rather than add calls.
      flight = createValueFlight({ waitMs: 20_000 });
      flights.set(name, flight);
    }
    const found = await flight.get(fresh, async (): Promise<{ value: T | undefined }> => {
      const value = await load(name);
      if (value === undefined) cache.delete(name);
      else cache.set(name, { value, at: now() });
      return { value };
    });
    return found.value;
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
