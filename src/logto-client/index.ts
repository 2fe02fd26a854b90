import { DEFAULT_RETRY_POLICY, type RetryPolicy, realSleep, type Sleep } from '../http-retry';
import { type RateGovernor, UNLIMITED_GOVERNOR } from './governor';
import { createOrganizationsApi } from './organizations';
import { createRequester, type TokenSource } from './request';
import { createRolesApi } from './roles';
import { createUsersApi } from './users';

export { LogtoApiError } from './errors';
export { type Admission, GovernorBusyError, type RateGovernor, UNLIMITED_GOVERNOR } from './governor';
export { MAX_PAGE_SIZE, paginate } from './paginate';
export type { CallOptions, Requester, TokenSource } from './request';
export type * from './types';
export { userSearchParams } from './users';

/**
 * Every Management API call carries this User-Agent. Logto copies the caller's User-Agent into the webhooks its
 * writes cause (`userAgent`), which is how the Worker recognises — and ignores — its own writes.
 */
export const PROJECT_USER_AGENT =
  'logto-automations/0.1 (+https://github.com/logto-automations/logto-automations)';

export interface LogtoClientOptions {
  /** Logto origin, e.g. `https://abc123.logto.app`. */
  endpoint: string;
  tokens: TokenSource;
  fetch?: typeof fetch;
  /** Per-attempt timeout. Default 10 000 ms. */
  timeoutMs?: number;
  retry?: RetryPolicy;
  /** Paces every call (the tenant's Durable Object in production). Default: no pacing. */
  governor?: RateGovernor;
  /** Longest a call waits for a governor slot in its own context (default 5 000 ms). */
  governorWaitMs?: number;
  sleep?: Sleep;
  now?: () => number;
  userAgent?: string;
}

/**
 * A typed Logto Management API client.
 *
 * @example
 * const logto = createLogtoClient({ endpoint, tokens: tokenCache });
 * for await (const user of logto.users.search({ fields: { primaryEmail: '%@example.com' } })) { … }
 */
export function createLogtoClient(options: LogtoClientOptions) {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? realSleep;
  const request = createRequester({
    endpoint: options.endpoint.replace(/\/+$/, ''),
    tokens: options.tokens,
    fetch: options.fetch ?? ((input, init) => fetch(input, init)),
    userAgent: options.userAgent ?? PROJECT_USER_AGENT,
    timeoutMs: options.timeoutMs ?? 10_000,
    retry: options.retry ?? DEFAULT_RETRY_POLICY,
    governor: options.governor ?? UNLIMITED_GOVERNOR,
    governorWaitMs: options.governorWaitMs ?? 5_000,
    sleep,
    now,
  });
  return {
    request,
    users: createUsersApi(request),
    organizations: createOrganizationsApi(request),
    ...createRolesApi(request, now),
  };
}

export type LogtoClient = ReturnType<typeof createLogtoClient>;
