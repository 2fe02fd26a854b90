import type { LogtoClient } from '../logto-client';
import { newUserAutomation, newUserOf } from './new-user';
import { type Automation, AutomationError, type AutomationInput } from './types';

export { isSignUp } from './new-user';

/**
 * Built-in automation: on a sign-up, assign the user roles named in `SIGNUP_ROLE_NAMES`. Logto sends two events for
 * one sign-up; the action `signup-roles:<userId>` is claimed by whichever runs first and the other skips. Assigning
 * is idempotent in Logto (roles the user has are skipped), so a replay changes nothing.
 */
export function signupRoles(roleNames: string[]): Automation {
  // A new user who signed up: from a sign-up's events (`PostRegister`, or the `User.Created` a sign-up fires), or
  // found by the sweep when Logto's audit log says so (a stored applicationId is not enough).
  const signedUp = (input: AutomationInput) => {
    const user = newUserOf(input);
    return user?.origin === 'sign-up' && (input.source !== 'reconcile' || input.signUp !== undefined)
      ? user
      : undefined;
  };
  return newUserAutomation('signup-roles', signedUp, async (ctx, user) => {
    const userId = user.user.id;
    if (ctx.dryRun) return { userId, wouldAssign: roleNames };
    // Role IDs come from the isolate's name cache, so resolving and assigning are one step (one API call warm).
    return ctx.call(`assign sign-up roles to ${userId}`, async (logto) => ({
      userId,
      ...(await assignRolesByName(logto, userId, roleNames)),
    }));
  });
}

/** Role names → IDs through the client's cached lookup; a missing role fails the run (retrying cannot fix it). */
export async function resolveRoleIds(
  logto: { roles: { findByName(name: string): Promise<{ id: string } | undefined> } },
  names: readonly string[],
): Promise<string[]> {
  const ids: string[] = [];
  for (const name of names) {
    const role = await logto.roles.findByName(name);
    if (!role) throw new AutomationError('role_not_found', `no role named "${name}" in Logto`);
    ids.push(role.id);
  }
  return ids;
}

type RoleClient = Parameters<typeof resolveRoleIds>[0] & Pick<LogtoClient, 'users'>;

/** Assigns user roles by name (Logto skips the ones the user has): one call with warm role names. */
export async function assignRolesByName(logto: RoleClient, userId: string, names: readonly string[]) {
  const roleIds = await resolveRoleIds(logto, names);
  const result = await logto.users.assignRoles(userId, roleIds);
  return { roleIds, addedRoleIds: result.addedRoleIds ?? [] };
}

/** Removes the named roles the user holds (only those: Logto answers 404 for a role not held); returns how many. */
export async function revokeRolesByName(logto: RoleClient, userId: string, names: readonly string[]) {
  const ids = new Set(await resolveRoleIds(logto, names));
  const held: string[] = [];
  for await (const role of logto.users.listRoles(userId)) if (ids.has(role.id)) held.push(role.id);
  for (const roleId of held) await logto.users.removeRole(userId, roleId);
  return held.length;
}
