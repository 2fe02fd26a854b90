import {
  type Automation,
  AutomationError,
  type AutomationInput,
  assignRolesByName,
  NEW_USER_EVENTS,
  newUserOf,
} from '../automations';
import type { AutomationConfig } from './config';
import { ruleMatches } from './rules';

type RoleRule = AutomationConfig['rolesByRule'][number];
type OrganizationRule = AutomationConfig['organizationsByRule'][number];

/** An automation for one rule: it wants a new user the rule matches, once per user (`<kind>:<rule>:<userId>`). */
function ruleAutomation(
  kind: string,
  rule: { name: string; when: RoleRule['when']; enforce: boolean },
  options: { trustApiEmails: boolean },
  run: Automation['run'],
): Automation {
  const match = (input: AutomationInput) => {
    const user = newUserOf(input);
    return user && ruleMatches(rule.when, user, input, options) ? user : undefined;
  };
  return {
    name: `${kind}:${rule.name}`,
    logtoEvents: NEW_USER_EVENTS,
    wants: (input) => match(input) !== undefined,
    actionKey: (input) => {
      const user = match(input);
      if (!user) return undefined;
      // An enforced rule claims one action per filter-scan pass, so a removal since the last one is undone.
      const pass = rule.enforce && input.source === 'reconcile' ? input.pass : undefined;
      return `${kind}:${rule.name}:${user.user.id}${pass === undefined ? '' : `:pass:${pass}`}`;
    },
    run,
  };
}

const userIdOf = (input: AutomationInput) => {
  const userId = newUserOf(input)?.user.id;
  if (!userId) throw new AutomationError('no_subject', 'the event names no user');
  return userId;
};

/** Recipe: assign user roles (by name) to new users a rule matches. Role assignment is idempotent in Logto. */
export function rolesByRule(rule: RoleRule, options: { trustApiEmails: boolean }): Automation {
  return ruleAutomation('roles-by-rule', rule, options, async (ctx) => {
    const userId = userIdOf(ctx.input);
    if (ctx.dryRun) return { userId, wouldAssign: rule.roles };
    return ctx.call('assign roles', async (logto) => {
      const { addedRoleIds } = await assignRolesByName(logto, userId, rule.roles);
      return { userId, roles: rule.roles, addedRoleIds };
    });
  });
}

/**
 * Recipe: add new users a rule matches to an organization, with organization roles (by name) — including users
 * created through the Management API and social sign-ups, which Logto's email-domain JIT skips. Both calls are
 * idempotent in Logto.
 */
export function organizationByRule(rule: OrganizationRule, options: { trustApiEmails: boolean }): Automation {
  return ruleAutomation('organization-by-rule', rule, options, async (ctx) => {
    const userId = userIdOf(ctx.input);
    const { organizationId, organizationRoles } = rule;
    if (ctx.dryRun) return { userId, wouldJoin: organizationId, organizationRoles };
    await ctx.call('add to organization', (logto) => logto.organizations.addUsers(organizationId, [userId]));
    if (organizationRoles.length > 0) {
      await ctx.call('assign organization roles', (logto) =>
        logto.organizations.assignUserRoles(organizationId, userId, {
          organizationRoleNames: organizationRoles,
        }),
      );
    }
    return { userId, organizationId, organizationRoles };
  });
}
