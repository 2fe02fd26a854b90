import { paginate } from './paginate';
import { bodyOf, type Requester } from './request';
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
  for (const name of ['joint', 'isCaseSensitive', 'excludeRoleId', 'excludeOrganizationId'] as const) {
    const value = search[name];
    if (value !== undefined && value !== '') params.set(name, String(value));
  }
  return params;
}

/** User routes of the Management API. */
export function createUsersApi(request: Requester) {
  const body = bodyOf(request);
  return {
    /** `GET /api/users/:id`; 404 → LogtoApiError `entity.not_found`. */
    get: (userId: string) => body<User>('GET', path(userId)),
    /** `GET /api/users` over every page, newest first. */
    search: (search: UserSearch = {}, pageSize?: number) =>
      paginate<User>(request, '/users', userSearchParams(search), pageSize),
    /** `POST /api/users` (not retried after an unknown outcome: it is not idempotent). */
    create: (input: CreateUserInput) => body<User>('POST', '/users', { body: input }),
    /** `PATCH /api/users/:id/custom-data`: a shallow merge (a plain user PATCH would replace it). */
    mergeCustomData: (userId: string, customData: Record<string, unknown>) =>
      body<Record<string, unknown>>('PATCH', `${path(userId)}/custom-data`, { body: { customData } }),
    /** `PATCH /api/users/:id/is-suspended`; suspending also revokes the user's sessions. */
    setSuspended: (userId: string, isSuspended: boolean) =>
      body<User>('PATCH', `${path(userId)}/is-suspended`, { body: { isSuspended } }),
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
        : body<AssignUserRolesResult>('POST', `${path(userId)}/roles`, {
            body: { roleIds },
            idempotent: true,
          }),
    /** `DELETE /api/users/:id/roles/:roleId`. */
    removeRole: async (userId: string, roleId: string) => {
      await request('DELETE', `${path(userId)}/roles/${encodeURIComponent(roleId)}`);
    },
    /** `GET /api/users/:id/organizations`: the organizations the user is a member of (with their roles there). */
    organizations: (userId: string) =>
      body<(Organization & { organizationRoles?: { id: string; name: string }[] })[]>(
        'GET',
        `${path(userId)}/organizations`,
      ),
    /** `GET /api/users/:id/roles` over every page. */
    listRoles: (userId: string) => paginate<Role>(request, `${path(userId)}/roles`),
  };
}
