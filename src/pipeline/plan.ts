import type { Automation, AutomationInput } from '../automations';
import type { PlannedClaim } from './claims';

/** An automation that wants an event, and the action it claims before acting (none in a dry run). */
export interface PlannedAutomation {
  name: string;
  actionKey?: string;
}

/**
 * The automations that want `input`, in configuration order, each with its action key. A dry run claims nothing
 * (it marks nothing done), so it plans no keys.
 */
export function planFor(
  automations: readonly Automation[],
  input: AutomationInput,
  dryRun: boolean,
): PlannedAutomation[] {
  return automations
    .filter((automation) => automation.wants(input))
    .map((automation) => ({
      name: automation.name,
      actionKey: dryRun ? undefined : automation.actionKey?.(input),
    }));
}

/**
 * The claims a new event can take before its run starts — only when every automation it wants has an action to
 * claim, so that "all of them are someone else's" means there is nothing left for its run to do.
 */
export function claimsBeforeStart(plan: readonly PlannedAutomation[]): PlannedClaim[] | undefined {
  const claims: PlannedClaim[] = [];
  for (const planned of plan) {
    if (!planned.actionKey) return undefined;
    claims.push({ automation: planned.name, actionKey: planned.actionKey });
  }
  return claims.length > 0 ? claims : undefined;
}
