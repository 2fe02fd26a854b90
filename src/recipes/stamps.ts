import { type Automation, AutomationError, NEW_USER_EVENTS, newUserOf } from '../automations';
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
  return {
    name: 'custom-data-stamps',
    logtoEvents: NEW_USER_EVENTS,
    wants: (input) => newUserOf(input) !== undefined,
    actionKey: (input) => {
      const user = newUserOf(input);
      return user && `custom-data-stamps:${user.user.id}`;
    },
    async run(ctx) {
      const user = newUserOf(ctx.input);
      if (!user) throw new AutomationError('no_subject', 'the event names no user');
      const stamp: Record<string, unknown> = {};
      for (const field of options.fields) {
        if (field === 'source') stamp.source = user.origin;
        if (field === 'applicationId') stamp.applicationId = user.applicationId ?? null;
        if (field === 'createdAt') stamp.createdAt = user.user.createdAt ?? null;
        if (field === 'stampedAt') stamp.stampedAt = now();
        if (field === 'connectors') stamp.connectors = connectorsOf(user);
      }
      Object.assign(stamp, options.extra?.(user) ?? {});
      const userId = user.user.id;
      if (ctx.dryRun) return { userId, wouldMerge: { [options.key]: stamp } };
      await ctx.call('merge custom data', (logto) =>
        logto.users.mergeCustomData(userId, { [options.key]: stamp }),
      );
      return { userId, merged: options.key };
    },
  };
}
