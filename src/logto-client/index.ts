import { createOrganizationsApi } from './organizations';
import { createRequester, type LogtoClientOptions } from './request';
import { createRolesApi } from './roles';
import { createUsersApi } from './users';

export { LogtoApiError } from './errors';
export { type Admission, GovernorBusyError, type RateGovernor, UNLIMITED_GOVERNOR } from './governor';
export { MAX_PAGE_SIZE, paginate } from './paginate';
export {
  type CallOptions,
  type LogtoClientOptions,
  PROJECT_USER_AGENT,
  type Requester,
  type TokenSource,
} from './request';
export type * from './types';
export { userSearchParams } from './users';

/**
 * A typed Logto Management API client.
 *
 * @example
 * const logto = createLogtoClient({ endpoint, tokens: tokenCache });
 * for await (const user of logto.users.search({ fields: { primaryEmail: '%@example.com' } })) { … }
 */
export function createLogtoClient(options: LogtoClientOptions) {
  const request = createRequester(options);
  return {
    request,
    users: createUsersApi(request),
    organizations: createOrganizationsApi(request),
    ...createRolesApi(request, options.now ?? Date.now),
  };
}

export type LogtoClient = ReturnType<typeof createLogtoClient>;
