import * as z from 'zod/mini';

/** Every event name a Logto 1.42 server accepts (L `packages/schemas/src/foundations/jsonb-types/hooks.ts`). */
export const INTERACTION_EVENTS = [
  'PostRegister',
  'PostSignIn',
  'PostResetPassword',
  'PostSignInAdaptiveMfaTriggered',
] as const;
export const DATA_EVENTS = [
  'User.Created',
  'User.Deleted',
  'User.Data.Updated',
  'User.SuspensionStatus.Updated',
  'Role.Created',
  'Role.Deleted',
  'Role.Data.Updated',
  'Role.Scopes.Updated',
  'Scope.Created',
  'Scope.Deleted',
  'Scope.Data.Updated',
  'Organization.Created',
  'Organization.Deleted',
  'Organization.Data.Updated',
  'Organization.Membership.Updated',
  'OrganizationRole.Created',
  'OrganizationRole.Deleted',
  'OrganizationRole.Data.Updated',
  'OrganizationRole.Scopes.Updated',
  'OrganizationScope.Created',
  'OrganizationScope.Deleted',
  'OrganizationScope.Data.Updated',
] as const;
export const EXCEPTION_EVENTS = ['Identifier.Lockout', 'Message.RateLimited', 'Grant.LimitExceeded'] as const;

const nullableString = z.optional(z.nullable(z.string()));

/** A user as Logto puts it in payloads; unknown fields pass through. Times are epoch milliseconds. */
export const userSchema = z.looseObject({
  id: z.string(),
  username: nullableString,
  primaryEmail: nullableString,
  primaryPhone: nullableString,
  name: nullableString,
  avatar: nullableString,
  customData: z.optional(z.record(z.string(), z.unknown())),
  identities: z.optional(z.record(z.string(), z.looseObject({ userId: z.string() }))),
  lastSignInAt: z.optional(z.nullable(z.number())),
  createdAt: z.optional(z.number()),
  updatedAt: z.optional(z.number()),
  applicationId: nullableString,
  isSuspended: z.optional(z.boolean()),
});

const applicationSchema = z.looseObject({
  id: z.string(),
  type: z.optional(z.string()),
  name: z.optional(z.string()),
});

/** Fields every payload carries: `hookId` names the webhook configuration, not the delivery. */
const envelope = {
  createdAt: z.iso.datetime({ offset: true }),
  hookId: z.string().check(z.minLength(1)),
};

/** The Management API context Logto adds to data events caused by an API call. */
const apiContext = {
  userAgent: z.optional(z.string()),
  ip: z.optional(z.string()),
  path: z.optional(z.string()),
  method: z.optional(z.string()),
  status: z.optional(z.number()),
  params: z.optional(z.record(z.string(), z.unknown())),
  matchedRoute: z.optional(z.string()),
  interactionEvent: z.optional(z.string()),
  sessionId: z.optional(z.string()),
  applicationId: z.optional(z.string()),
  application: z.optional(applicationSchema),
};

export const interactionEventSchema = z.looseObject({
  ...envelope,
  event: z.enum(INTERACTION_EVENTS),
  interactionEvent: z.optional(z.enum(['SignIn', 'Register', 'ForgotPassword'])),
  sessionId: z.optional(z.string()),
  userAgent: z.optional(z.string()),
  userIp: z.optional(z.string()),
  userId: z.optional(z.string()),
  user: z.optional(userSchema),
  application: z.optional(applicationSchema),
});

/** `User.Created|Deleted|SuspensionStatus.Updated` carry a user; `User.Data.Updated` may carry only customData. */
export const userEventSchema = z.looseObject({
  ...envelope,
  ...apiContext,
  event: z.enum(['User.Created', 'User.Deleted', 'User.SuspensionStatus.Updated']),
  data: userSchema,
});

export const userDataUpdatedSchema = z.looseObject({
  ...envelope,
  ...apiContext,
  event: z.literal('User.Data.Updated'),
  data: z.optional(z.record(z.string(), z.unknown())),
});

export const membershipEventSchema = z.looseObject({
  ...envelope,
  ...apiContext,
  event: z.literal('Organization.Membership.Updated'),
  organizationId: z.string(),
  addedUserIds: z.optional(z.array(z.string())),
  removedUserIds: z.optional(z.array(z.string())),
  addedApplicationIds: z.optional(z.array(z.string())),
  removedApplicationIds: z.optional(z.array(z.string())),
});

const otherDataEvents = DATA_EVENTS.filter(
  (name) => !name.startsWith('User.') && name !== 'Organization.Membership.Updated',
);

/** Role, scope, organization, organization-role and -scope events; `*.Deleted` carry no `data` at all. */
export const entityEventSchema = z.looseObject({
  ...envelope,
  ...apiContext,
  event: z.enum(otherDataEvents as [string, ...string[]]),
  data: z.optional(z.unknown()),
});

export const exceptionEventSchema = z.looseObject({
  ...envelope,
  event: z.enum(EXCEPTION_EVENTS),
  userAgent: z.optional(z.string()),
  ip: z.optional(z.string()),
  // Identifier.Lockout: {type, value}; Message.RateLimited: {action, recipient}; Grant.LimitExceeded: userId, …
  type: z.optional(z.string()),
  value: z.optional(z.string()),
  action: z.optional(z.string()),
  recipient: z.optional(z.string()),
  userId: z.optional(z.string()),
  revokedGrantIds: z.optional(z.array(z.string())),
});
