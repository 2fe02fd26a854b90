import type { PipelineConfig } from '../config/pipeline';
import { signupRoles } from './signup-roles';
import type { Automation } from './types';

export { type Automation, type AutomationContext, AutomationError } from './types';

/** The automations enabled by the configuration. */
export function automationsFor(config: Pick<PipelineConfig, 'signupRoleNames'>): Automation[] {
  const list: Automation[] = [];
  if (config.signupRoleNames.length > 0) list.push(signupRoles(config.signupRoleNames));
  return list;
}
