import { defineAutomation } from '../src/recipes';

/**
 * Example handler: when someone signs up, flag them for a welcome tour in customData — once per user although one
 * sign-up fires two events (`once` keys the action by user). Add it to `handlers` in automations.config.ts.
 */
export const welcomeFlag = defineAutomation({
  name: 'welcome-flag',
  on: ['PostRegister'],
  once: (event) => event.userId,
  run: async (event, { logto, log }) => {
    const userId = event.userId;
    if (!userId) return { skipped: 'no user' };
    await logto.users.mergeCustomData(userId, {
      welcomeTour: { pending: true, application: event.application?.id ?? null },
    });
    log.info(`welcome tour flagged for ${userId}`);
    return { userId };
  },
});
