import type { LogtoEvent } from '../events';
import type { User } from '../logto-client';
import type { AutomationInput, LogtoEventName } from './types';

/** How a user came to exist, as far as the event or the user object tells. */
export type UserOrigin = 'sign-up' | 'management-api';

/** A user that just appeared: from a sign-up, a `User.Created`, or found by the reconciliation sweep. */
export interface NewUser {
  /** The user as the event (or the sweep's listing) carried it; may be partial in a `PostRegister`. */
  user: Pick<User, 'id'> & Partial<User>;
  origin: UserOrigin;
  /** The application the user signed up through, when known. */
  applicationId?: string;
}

/** The Logto events {@link newUserOf} finds a new user in: what every new-user recipe subscribes to. */
export const NEW_USER_EVENTS = ['PostRegister', 'User.Created'] as const satisfies readonly LogtoEventName[];

/** A sign-up: `PostRegister`, or the `User.Created` that the same sign-up fires first (interactionEvent Register). */
export const isSignUp = (event: LogtoEvent): boolean =>
  event.event === 'PostRegister' ||
  (event.family === 'user' && event.event === 'User.Created' && event.interactionEvent === 'Register');

const text = (value: unknown) => (typeof value === 'string' && value.length > 0 ? value : undefined);

/**
 * The new user an input is about: a `PostRegister`, any `User.Created` (sign-up or Management API — Logto's own JIT
 * skips the latter), or a user the sweep found. Undefined for everything else.
 */
export function newUserOf(input: AutomationInput): NewUser | undefined {
  if (input.source === 'reconcile') {
    // The audit log says how the user came; a stored user does not (its applicationId is null after a sign-up too).
    if (input.signUp !== undefined)
      return {
        user: input.user,
        origin: input.signUp ? 'sign-up' : 'management-api',
        applicationId: text(input.signUp?.applicationId),
      };
    const applicationId = text(input.user.applicationId);
    // Logto records the application a user registered through; users created through the Management API have none.
    return { user: input.user, origin: applicationId ? 'sign-up' : 'management-api', applicationId };
  }
  if (input.source !== 'logto') return undefined;
  const { event } = input;
  if (event.event === 'PostRegister' && event.family === 'interaction') {
    const id = event.userId ?? event.user?.id;
    if (!id) return undefined;
    return {
      user: { ...(event.user as Partial<User>), id },
      origin: 'sign-up',
      applicationId: text(event.application?.id) ?? text(event.user?.applicationId),
    };
  }
  if (event.family === 'user' && event.event === 'User.Created') {
    const signUp = event.interactionEvent === 'Register';
    return {
      user: event.data as NewUser['user'],
      origin: signUp ? 'sign-up' : 'management-api',
      applicationId:
        text(event.applicationId) ?? text(event.application?.id) ?? text(event.data.applicationId),
    };
  }
  return undefined;
}
