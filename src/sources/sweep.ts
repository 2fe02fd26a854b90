import type { User } from '../logto-client';
import { isObject, type Source } from './types';

const isUser = (value: unknown): value is User => isObject(value) && typeof value.id === 'string';

/**
 * The reconciliation sweep (src/sweep): a user it found, with what Logto's audit log says of their sign-up. Handlers
 * subscribe to `reconcile`.
 */
export const reconcileSource: Source<'reconcile'> = {
  name: 'reconcile',
  inputOf(_row, json) {
    if (!isObject(json) || !isUser(json.user)) return { ok: false, reason: 'reconcile body has no user' };
    const { signUp, pass } = json;
    const applicationId =
      isObject(signUp) && typeof signUp.applicationId === 'string' ? signUp.applicationId : null;
    return {
      ok: true,
      input: {
        source: 'reconcile',
        user: json.user,
        // Absent from bodies journaled before the audit log was read.
        ...('signUp' in json ? { signUp: isObject(signUp) ? { applicationId } : null } : {}),
        ...(typeof pass === 'number' ? { pass } : {}),
      },
    };
  },
  handlerView: (input) => ({ names: ['reconcile'], event: { event: 'reconcile', user: input.user } }),
};

/** The cleanup (src/sweep): a user who never signed in, and what to do. Only the built-in cleanup acts on it. */
export const cleanupSource: Source<'cleanup'> = {
  name: 'cleanup',
  inputOf: (_row, json) =>
    isObject(json) && isUser(json.user) && (json.action === 'suspend' || json.action === 'delete')
      ? {
          ok: true,
          input: { source: 'cleanup', user: json.user, action: json.action, dryRun: json.dryRun !== false },
        }
      : { ok: false, reason: 'cleanup body has no user or action' },
  handlerView: () => undefined,
};
