import { createValueFlight } from '../value-flight';
import { paginate } from './paginate';
import type { Requester } from './request';
import type { OrganizationRole, Role } from './types';

/** Role lookups by name are cached this long per client (roles rarely change; names are unique per tenant). */
export const ROLE_CACHE_TTL_MS = 5 * 60_000;

/**
 * Lookups by exact name in the list at `path` (`query` narrows it), keeping resolved values only. Concurrent lookups
 * of one name wait for the first one's value by polling (src/value-flight) instead of sharing its promise; when it
 * fails (401, 5xx), each waiting caller looks the name up by itself, so one failed request does not fail every run
 * that happened to wait on it.
 */
function createNameCache<T extends { name: string }>(
  request: Requester,
  now: () => number,
  path: string,
  query: (name: string) => Record<string, string>,
) {
  const cache = new Map<string, { value: T; at: number }>();
  const flights = new Map<string, ReturnType<typeof createValueFlight>>();
  const load = async (name: string) => {
    for await (const item of paginate<T>(request, path, new URLSearchParams(query(name))))
      if (item.name === name) return item;
    return undefined;
  };
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
  return {
    roles: {
      /** `GET /api/roles` over every page; `type` filters User or MachineToMachine roles. */
      list: (filter: { type?: 'User' | 'MachineToMachine' } = {}) =>
        paginate<Role>(request, '/roles', new URLSearchParams(filter.type ? { type: filter.type } : {})),
      /** The role with exactly this name, or undefined. Cached for {@link ROLE_CACHE_TTL_MS}. */
      findByName: createNameCache<Role>(request, now, '/roles', (name) => ({
        'search.name': name,
        'mode.name': 'exact',
        isCaseSensitive: 'true',
      })),
    },
    organizationRoles: {
      list: () => paginate<OrganizationRole>(request, '/organization-roles'),
      /** The organization role with exactly this name, or undefined. Cached for {@link ROLE_CACHE_TTL_MS}. */
      findByName: createNameCache<OrganizationRole>(request, now, '/organization-roles', (q) => ({ q })),
    },
  };
}
