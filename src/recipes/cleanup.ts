import type { Automation } from '../automations';

/**
 * Cleanup (opt-in): a user the cleanup scan found — never signed in N days after creation — is suspended or deleted.
 * In dry-run (the default) the journal records who would be. The user is read again first: one who signed in since
 * the scan is left alone.
 */
export function cleanupUsers(): Automation {
  return {
    name: 'cleanup',
    logtoEvents: [],
    wants: (input) => input.source === 'cleanup',
    actionKey: (input) =>
      input.source === 'cleanup' && !input.dryRun ? `cleanup:${input.action}:${input.user.id}` : undefined,
    async run(ctx) {
      if (ctx.input.source !== 'cleanup') return { skipped: true };
      const { user, action } = ctx.input;
      const userId = user.id;
      if (ctx.input.dryRun || ctx.dryRun) return { userId, wouldDo: action, createdAt: user.createdAt };
      const current = await ctx.call('read user', async (logto) => {
        const fresh = await logto.users.get(userId);
        return { lastSignInAt: fresh.lastSignInAt ?? null, isSuspended: fresh.isSuspended };
      });
      if (current.lastSignInAt !== null) return { userId, skipped: true, reason: 'signed in since the scan' };
      if (action === 'delete') await ctx.call('delete', (logto) => logto.users.delete(userId));
      else if (!current.isSuspended)
        await ctx.call('suspend', (logto) => logto.users.setSuspended(userId, true));
      return { userId, did: action };
    },
  };
}
