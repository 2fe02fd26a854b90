import { paginate } from './paginate';
import { bodyOf, type Requester } from './request';
import type { CreateOrganizationInput, JitEmailDomain, Organization } from './types';

const path = (organizationId: string) => `/organizations/${encodeURIComponent(organizationId)}`;
const memberPath = (organizationId: string, userId: string) =>
  `${path(organizationId)}/users/${encodeURIComponent(userId)}`;

/** Organization routes of the Management API. */
export function createOrganizationsApi(request: Requester) {
  const body = bodyOf(request);
  return {
    /**
     * `POST /api/organizations`. Names are not unique in Logto and this call is not retried after an unknown
     * outcome: callers that must not create twice record the new ID (e.g. in the user's customData) and check it.
     */
    create: (input: CreateOrganizationInput) => body<Organization>('POST', '/organizations', { body: input }),
    /** `GET /api/organizations/:id`. */
    get: (organizationId: string) => body<Organization>('GET', path(organizationId)),
    /** `GET /api/organizations` over every page; `q` matches `%q%` on id and name. */
    list: (filter: { q?: string } = {}) =>
      paginate<Organization>(request, '/organizations', new URLSearchParams(filter.q ? { q: filter.q } : {})),
    /** `POST /api/organizations/:id/users`: existing members are skipped, so this is an "ensure". */
    addUsers: async (organizationId: string, userIds: string[]) => {
      if (userIds.length === 0) return; // Logto answers 400 to an empty list
      await request('POST', `${path(organizationId)}/users`, { body: { userIds }, idempotent: true });
    },
    /** `DELETE /api/organizations/:id/users/:userId`. */
    removeUser: async (organizationId: string, userId: string) => {
      await request('DELETE', memberPath(organizationId, userId));
    },
    /**
     * `POST /api/organizations/:id/users/:userId/roles` by IDs and/or names; idempotent. The user must be a member
     * (422 `organization.require_membership`); unknown names → 422 `organization.role_names_not_found`.
     */
    assignUserRoles: async (
      organizationId: string,
      userId: string,
      roles: { organizationRoleIds?: string[]; organizationRoleNames?: string[] },
    ) => {
      // An empty list makes no call: Logto ≤ 1.42 answers 500 to one.
      if (!roles.organizationRoleIds?.length && !roles.organizationRoleNames?.length) return;
      await request('POST', `${memberPath(organizationId, userId)}/roles`, {
        body: roles,
        idempotent: true,
      });
    },
    /** JIT provisioning by verified email domain (Logto applies it to new interactive sign-ups only). */
    jitEmailDomains: {
      list: (organizationId: string) =>
        paginate<JitEmailDomain>(request, `${path(organizationId)}/jit/email-domains`),
      /** 422 when the domain is already listed. */
      add: (organizationId: string, emailDomain: string) =>
        body<JitEmailDomain>('POST', `${path(organizationId)}/jit/email-domains`, { body: { emailDomain } }),
      remove: async (organizationId: string, emailDomain: string) => {
        await request(
          'DELETE',
          `${path(organizationId)}/jit/email-domains/${encodeURIComponent(emailDomain)}`,
        );
      },
    },
  };
}
