import type { Automation } from '../automations';
import { signupRoles } from '../automations';
import type { PipelineConfig } from '../config';
import { organizationByRule, rolesByRule } from './by-rule';
import { cleanupUsers } from './cleanup';
import type { AutomationConfig } from './config';
import { githubIdentityLinks, githubOrganizations } from './github';
import { personalOrganization } from './personal-organization';
import { customDataStamps } from './stamps';
import { stripeSubscriptions } from './stripe';

export {
  type AutomationConfig,
  AutomationConfigError,
  type AutomationConfigInput,
  defineConfig,
  parseAutomationConfig,
} from './config';
export { defineAutomation, type HandlerEvent, type HandlerEventName, type HandlerTools } from './define';

/**
 * Every automation the configuration enables, in the order they run for one event: the built-in sign-up roles
 * (`SIGNUP_ROLE_NAMES`), the personal organization, roles by rule, organizations by rule, custom-data stamps, the
 * callbacks' mappings, cleanup, then your handlers.
 */
export function automationsFromConfig(
  config: AutomationConfig,
  env: Pick<PipelineConfig, 'signupRoleNames'>,
  now: () => number,
): Automation[] {
  const options = { trustApiEmails: config.trustApiEmails };
  const list: Automation[] = [];
  if (env.signupRoleNames.length > 0) list.push(signupRoles(env.signupRoleNames));
  if (config.personalOrganization) list.push(personalOrganization(config.personalOrganization));
  for (const rule of config.rolesByRule) list.push(rolesByRule(rule, options));
  for (const rule of config.organizationsByRule) list.push(organizationByRule(rule, options));
  if (config.stamps) list.push(customDataStamps(config.stamps, now));
  if (config.github) list.push(githubIdentityLinks(config.github), githubOrganizations(config.github));
  if (config.stripe) list.push(stripeSubscriptions(config.stripe));
  if (config.cleanup?.enabled) list.push(cleanupUsers());
  list.push(...config.handlers);
  return list;
}
