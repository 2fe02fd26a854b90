import type { LogtoEvent } from '../events';
import type { User } from '../logto-client';
import {
  type Automation,
  type AutomationContext,
  AutomationError,
  type AutomationInput,
  type LogtoEventName,
} from './types';

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

/** A payload field that should be a non-empty string: the string, else undefined (missing, null, '' or not text). */
export const stringField = (value: unknown) =>
  typeof value === 'string' && value.length > 0 ? value : undefined;

/** A payload field that should be an object: the object, else an empty one (so that its fields read undefined). */
export const objectField = (value: unknown): Record<string, unknown> =>
  typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};

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
        applicationId: stringField(input.signUp?.applicationId),
      };
    const applicationId = stringField(input.user.applicationId);
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
      applicationId: stringField(event.application?.id) ?? stringField(event.user?.applicationId),
    };
  }
  if (event.family === 'user' && event.event === 'User.Created') {
    const signUp = event.interactionEvent === 'Register';
    return {
      user: event.data as NewUser['user'],
      origin: signUp ? 'sign-up' : 'management-api',
      applicationId:
        stringField(event.applicationId) ??
        stringField(event.application?.id) ??
        stringField(event.data.applicationId),
    };
  }
  return undefined;
}

/**
 * An automation for the new users `subject` picks out (from {@link newUserOf}), acting once per user: its action is
 * `<name>:<userId>`. With `enforce`, a filter scan's pass is added (`:pass:<n>`): the action is claimed again in each
 * pass, so an admin's removal since the last one is undone. `run` gets the user; a run whose input names no user
 * `subject` accepts (e.g. a rule narrowed by a deploy between the run's start and this step) fails with `no_subject`
 * and changes nothing.
 */
export function newUserAutomation(
  name: string,
  subject: (input: AutomationInput) => NewUser | undefined,
  run: (ctx: AutomationContext, user: NewUser) => Promise<unknown>,
  enforce = false,
): Automation {
  return {
    name,
    logtoEvents: NEW_USER_EVENTS,
    wants: (input) => subject(input) !== undefined,
    actionKey: (input) => {
      const user = subject(input);
      if (!user) return undefined;
      const pass = enforce && input.source === 'reconcile' ? input.pass : undefined;
      return `${name}:${user.user.id}${pass === undefined ? '' : `:pass:${pass}`}`;
    },
    run: async (ctx) => {
      const user = subject(ctx.input);
      if (!user?.user.id)
        throw new AutomationError('no_subject', 'the event names no user this automation acts on');
      return run(ctx, user);
    },
  };
}
