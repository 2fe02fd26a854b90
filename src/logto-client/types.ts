import type { operations } from './management-api';

/** The JSON body of an operation's response, from the types generated off Logto's OpenAPI document. */
type Json<
  Op extends keyof operations,
  Status extends keyof operations[Op]['responses'],
> = operations[Op]['responses'][Status] extends { content: { 'application/json': infer Body } }
  ? Body
  : never;

/** The JSON request body of an operation. */
type Body<Op extends keyof operations> = operations[Op] extends {
  requestBody?: { content: { 'application/json': infer B } };
}
  ? B
  : never;

export type User = Json<'GetUser', 200>;
export type Role = Json<'GetRole', 200>;
export type Organization = Json<'GetOrganization', 200>;
export type OrganizationRole = Json<'GetOrganizationRole', 200>;
export type CreateUserInput = Body<'CreateUser'>;
export type CreateOrganizationInput = Body<'CreateOrganization'>;
export type AssignUserRolesResult = Json<'AssignUserRoles', 201>;
export type JitEmailDomain =
  Json<'ListOrganizationJitEmailDomains', 200> extends (infer Item)[] ? Item : never;

/** Logto's user search modes (`mode` / `mode.<field>`). */
export type SearchMode = 'like' | 'exact' | 'similar_to' | 'posix';

/** First-level user fields Logto can search on with `search.<field>`. */
export type UserSearchField = 'id' | 'primaryEmail' | 'primaryPhone' | 'username' | 'name';

/**
 * A user search in Logto's own syntax (docs: user-management/advanced-user-search). `like` uses the value as a raw
 * ILIKE pattern, so add `%` yourself; `exact` accepts several values per field.
 */
export interface UserSearch {
  /** `search=`: matches id, primaryEmail, primaryPhone, username and name. */
  text?: string;
  /** `search.<field>=`; an array repeats the parameter. */
  fields?: Partial<Record<UserSearchField, string | string[]>>;
  /** `mode=` for every field. */
  mode?: SearchMode;
  /** `mode.<field>=`. */
  fieldModes?: Partial<Record<UserSearchField, SearchMode>>;
  /** `joint=`: how field conditions combine; Logto's default is `or`. */
  joint?: 'or' | 'and';
  isCaseSensitive?: boolean;
  excludeRoleId?: string;
  excludeOrganizationId?: string;
}
