import {
  type Automation,
  type AutomationInput,
  assignRolesByName,
  newUserAutomation,
  newUserOf,
} from '../automations';
import type { AutomationConfig } from './config';
import { ruleMatches } from './rules';

type RoleRule = AutomationConfig['rolesByRule'][number];
type OrganizationRule = AutomationConfig['organizationsByRule'][number];

/** The new user an input is about, when the rule matches them. */
const matching =
  (rule: { when: RoleRule['when'] }, options: { trustApiEmails: boolean }) => (input: AutomationInput) => {
    const user = newUserOf(input);
    return user && ruleMatches(rule.when, user, input, options) ? user : undefined;
  };

/**
 * Recipe: assign user roles (by name) to new users a rule matches, once per user (`roles-by-rule:<rule>:<userId>`).
 * Role assignment is idempotent in Logto.
 */
export function rolesByRule(rule: RoleRule, options: { trustApiEmails: boolean }): Automation {
  return newUserAutomation(
    `roles-by-rule:${rule.name}`,
    matching(rule, options),
    async (ctx, { user: { id: userId } }) => {
      if (ctx.dryRun) return { userId, wouldAssign: rule.roles };
      return ctx.call('assign roles', async (logto) => {
        const { addedRoleIds } = await assignRolesByName(logto, userId, rule.roles);
        return { userId, roles: rule.roles, addedRoleIds };
      });
    },
    rule.enforce,
  );
}

/**
 * Recipe: add new users a rule matches to an organization, with organization roles (by name), once per user
 * (`organization-by-rule:<rule>:<userId>`) — including users created through the Management API and social
 * sign-ups, which Logto's email-domain JIT skips. Both calls are idempotent in Logto.
 */
export function organizationByRule(rule: OrganizationRule, options: { trustApiEmails: boolean }): Automation {
  return newUserAutomation(
    `organization-by-rule:${rule.name}`,
    matching(rule, options),
    async (ctx, { user: { id: userId } }) => {
      const { organizationId, organizationRoles } = rule;
      if (ctx.dryRun) return { userId, wouldJoin: organizationId, organizationRoles };
      await ctx.call('add to organization', (logto) =>
        logto.organizations.addUsers(organizationId, [userId]),
      );
      if (organizationRoles.length > 0) {
        await ctx.call('assign organization roles', (logto) =>
          logto.organizations.assignUserRoles(organizationId, userId, {
            organizationRoleNames: organizationRoles,
          }),
        );
      }
      return { userId, organizationId, organizationRoles };
    },
    rule.enforce,
  );
}
