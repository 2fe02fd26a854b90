import { type LogtoEvent, subjectOf } from '../events';
import { type Automation, AutomationError } from './types';

/** A sign-up: `PostRegister`, or the `User.Created` that the same sign-up fires first (interactionEvent Register). */
export const isSignUp = (event: LogtoEvent): boolean =>
  event.event === 'PostRegister' ||
  (event.family === 'user' && event.event === 'User.Created' && event.interactionEvent === 'Register');

/**
 * Built-in automation: on a sign-up, assign the user roles named in `SIGNUP_ROLE_NAMES`. Logto sends two events for
 * one sign-up; the action `signup-roles:<userId>` is claimed by whichever runs first and the other skips. Assigning
 * is idempotent in Logto (roles the user has are skipped), so a replay changes nothing.
 */
export function signupRoles(roleNames: string[]): Automation {
  return {
    name: 'signup-roles',
    wants: isSignUp,
    async run(ctx) {
      const userId = subjectOf(ctx.event);
      if (!userId) throw new AutomationError('no_subject', 'the sign-up event names no user');
      const actionKey = `signup-roles:${userId}`;
      const claim = await ctx.claim(actionKey);
      if (!claim.act) return { skipped: true, reason: `already ${claim.status} by event ${claim.by}` };
      const roleIds = await ctx.call('resolve sign-up roles', async (logto) => {
        const ids: string[] = [];
        for (const name of roleNames) {
          const role = await logto.roles.findByName(name);
          if (!role) throw new AutomationError('role_not_found', `no role named "${name}" in Logto`);
          ids.push(role.id);
        }
        return ids;
      });
      const result = await ctx.call(`assign sign-up roles to ${userId}`, (logto) =>
        logto.users.assignRoles(userId, roleIds),
      );
      const detail = { userId, roleIds, addedRoleIds: result.addedRoleIds ?? [] };
      await ctx.complete(actionKey, detail);
      return detail;
    },
  };
}
