import { paginate } from './paginate';
import type { Requester } from './request';
import type { AssignUserRolesResult, CreateUserInput, Organization, Role, User, UserSearch } from './types';

const path = (userId: string) => `/users/${encodeURIComponent(userId)}`;

/** Serialises a {@link UserSearch} into Logto's query syntax (`search.<field>`, `mode.<field>`, `joint`, …). */
export function userSearchParams(search: UserSearch): URLSearchParams {
  const params = new URLSearchParams();
  if (search.text !== undefined) params.append('search', search.text);
  for (const [field, value] of Object.entries(search.fields ?? {})) {
    for (const item of Array.isArray(value) ? value : [value]) params.append(`search.${field}`, item);
  }
  if (search.mode) params.set('mode', search.mode);
  for (const [field, mode] of Object.entries(search.fieldModes ?? {})) params.set(`mode.${field}`, mode);
  if (search.joint) params.set('joint', search.joint);
  if (search.isCaseSensitive !== undefined) params.set('isCaseSensitive', String(search.isCaseSensitive));
  if (search.excludeRoleId) params.set('excludeRoleId', search.excludeRoleId);
  if (search.excludeOrganizationId) params.set('excludeOrganizationId', search.excludeOrganizationId);
  return params;
}

/** User routes of the Management API. */
export function createUsersApi(request: Requester) {
  return {
    /** `GET /api/users/:id`; 404 → LogtoApiError `entity.not_found`. */
    get: async (userId: string) => (await request<User>('GET', path(userId))).data,
    /** `GET /api/users` over every page, newest first. */
    search: (search: UserSearch = {}, pageSize?: number) =>
      paginate<User>(request, '/users', userSearchParams(search), pageSize),
    /** `POST /api/users` (not retried after an unknown outcome: it is not idempotent). */
    create: async (input: CreateUserInput) => (await request<User>('POST', '/users', { body: input })).data,
    /** `PATCH /api/users/:id/custom-data`: a shallow merge (a plain user PATCH would replace it). */
    mergeCustomData: async (userId: string, customData: Record<string, unknown>) =>
      (
        await request<Record<string, unknown>>('PATCH', `${path(userId)}/custom-data`, {
          body: { customData },
        })
      ).data,
    /** `PATCH /api/users/:id/is-suspended`; suspending also revokes the user's sessions. */
    setSuspended: async (userId: string, isSuspended: boolean) =>
      (await request<User>('PATCH', `${path(userId)}/is-suspended`, { body: { isSuspended } })).data,
    /** `DELETE /api/users/:id`. */
    delete: async (userId: string) => {
      await request<void>('DELETE', path(userId));
    },
    /**
     * `POST /api/users/:id/roles`: roles the user already has are skipped, so this is an "ensure". An empty list makes
     * no call (Logto ≤ 1.42 answers 500 to one).
     */
    assignRoles: async (userId: string, roleIds: string[]): Promise<AssignUserRolesResult> =>
      roleIds.length === 0
        ? { roleIds: [], addedRoleIds: [] }
        : (
            await request<AssignUserRolesResult>('POST', `${path(userId)}/roles`, {
              body: { roleIds },
              idempotent: true,
            })
          ).data,
    /** `DELETE /api/users/:id/roles/:roleId`. */
    removeRole: async (userId: string, roleId: string) => {
      await request('DELETE', `${path(userId)}/roles/${encodeURIComponent(roleId)}`);
    },
    /** `GET /api/users/:id/organizations`: the organizations the user is a member of (with their roles there). */
    organizations: async (userId: string) =>
      (
        await request<(Organization & { organizationRoles?: { id: string; name: string }[] })[]>(
          'GET',
          `${path(userId)}/organizations`,
        )
      ).data,
    /** `GET /api/users/:id/roles` over every page. */
    listRoles: (userId: string) => paginate<Role>(request, `${path(userId)}/roles`),
  };
}
