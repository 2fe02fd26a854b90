import type { Automation, LogtoEventName } from '../automations';
import { signupRoles } from '../automations';
import type { PipelineConfig } from '../config';
import { organizationByRule, rolesByRule } from './by-rule';
import { cleanupUsers } from './cleanup';
import type { AutomationConfig } from './config';
import { LOGTO_EVENT_NAMES } from './define';
import { personalOrganization } from './personal-organization';
import { customDataStamps } from './stamps';

export {
  type AutomationConfig,
  AutomationConfigError,
  type AutomationConfigInput,
  defineConfig,
  type ImportedRecipe,
  parseAutomationConfig,
} from './config';
export {
  defineAutomation,
  type HandlerEvent,
  type HandlerEventName,
  type HandlerTools,
  LOGTO_EVENT_NAMES,
  type LogtoEventName,
} from './define';
// Imported recipes: in the deployed bundle only when automations.config.ts imports them (nothing runs at load).
export { type GithubOptions, github } from './github';
export { type StripeOptions, stripe } from './stripe';

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
  if (config.github) list.push(...config.github.automations);
  if (config.stripe) list.push(...config.stripe.automations);
  if (config.cleanup?.enabled) list.push(cleanupUsers());
  list.push(...config.handlers);
  return list;
}

/**
 * The Logto webhook events some automation consumes, in Logto's order: exactly what the Logto webhook pointing at
 * this Worker must subscribe to (`npm run connect`). Empty when only callbacks, the sweep or the cleanup are on.
 *
 * @example
 * logtoEventsOf(automationsFromConfig(recipes, { signupRoleNames: ['member'] }, Date.now)); // ['PostRegister', 'User.Created']
 */
export function logtoEventsOf(automations: readonly Automation[]): LogtoEventName[] {
  const wanted = new Set(automations.flatMap((automation) => automation.logtoEvents));
  return LOGTO_EVENT_NAMES.filter((name) => wanted.has(name));
}
