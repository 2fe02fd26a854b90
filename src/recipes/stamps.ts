import { type Automation, newUserAutomation, newUserOf } from '../automations';
import type { AutomationConfig } from './config';
import { connectorsOf } from './rules';

type Options = NonNullable<AutomationConfig['stamps']>;

/**
 * Recipe: merge a stamp into each new user's customData under one top-level key (Logto's custom-data PATCH is a
 * shallow merge, so other keys are kept): how the user came, the first application, timestamps, your own fields.
 * Once per user; the stamp time is the run's, so a replay writes the same value only if it runs at all (it does not:
 * the action is done).
 */
export function customDataStamps(options: Options, now: () => number): Automation {
  return newUserAutomation('custom-data-stamps', newUserOf, async (ctx, user) => {
    const builtIn = {
      source: user.origin,
      applicationId: user.applicationId ?? null,
      createdAt: user.user.createdAt ?? null,
      stampedAt: now(),
      connectors: connectorsOf(user),
    };
    const stamp = {
      ...Object.fromEntries(options.fields.map((field) => [field, builtIn[field]])),
      ...options.extra?.(user),
    };
    const userId = user.user.id;
    if (ctx.dryRun) return { userId, wouldMerge: { [options.key]: stamp } };
    await ctx.call('merge custom data', (logto) =>
      logto.users.mergeCustomData(userId, { [options.key]: stamp }),
    );
    return { userId, merged: options.key };
  });
}
