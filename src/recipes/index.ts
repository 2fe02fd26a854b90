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
  return [
    ...(env.signupRoleNames.length > 0 ? [signupRoles(env.signupRoleNames)] : []),
    ...(config.personalOrganization ? [personalOrganization(config.personalOrganization)] : []),
    // The rules read the configuration's `trustApiEmails`.
    ...config.rolesByRule.map((rule) => rolesByRule(rule, config)),
    ...config.organizationsByRule.map((rule) => organizationByRule(rule, config)),
    ...(config.stamps ? [customDataStamps(config.stamps, now)] : []),
    ...(config.github?.automations ?? []),
    ...(config.stripe?.automations ?? []),
    ...(config.cleanup?.enabled ? [cleanupUsers()] : []),
    ...config.handlers,
  ];
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
