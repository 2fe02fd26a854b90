export * from './new-user';
export { assignRolesByName, resolveRoleIds, revokeRolesByName, signupRoles } from './signup-roles';
export * from './types';
