export * from './new-user';
export { resolveRoleIds, signupRoles } from './signup-roles';
export * from './types';
