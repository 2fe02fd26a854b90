import { z } from 'zod';

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

const nullableString = z.string().nullable().optional();

/** A user as Logto puts it in payloads; unknown fields pass through. Times are epoch milliseconds. */
export const userSchema = z.looseObject({
  id: z.string(),
  username: nullableString,
  primaryEmail: nullableString,
  primaryPhone: nullableString,
  name: nullableString,
  avatar: nullableString,
  customData: z.record(z.string(), z.unknown()).optional(),
  identities: z.record(z.string(), z.looseObject({ userId: z.string() })).optional(),
  lastSignInAt: z.number().nullable().optional(),
  createdAt: z.number().optional(),
  updatedAt: z.number().optional(),
  applicationId: nullableString,
  isSuspended: z.boolean().optional(),
});

const applicationSchema = z.looseObject({
  id: z.string(),
  type: z.string().optional(),
  name: z.string().optional(),
});

/** Fields every payload carries: `hookId` names the webhook configuration, not the delivery. */
const envelope = {
  createdAt: z.iso.datetime({ offset: true }),
  hookId: z.string().min(1),
};

/** The Management API context Logto adds to data events caused by an API call. */
const apiContext = {
  userAgent: z.string().optional(),
  ip: z.string().optional(),
  path: z.string().optional(),
  method: z.string().optional(),
  status: z.number().optional(),
  params: z.record(z.string(), z.unknown()).optional(),
  matchedRoute: z.string().optional(),
  interactionEvent: z.string().optional(),
  sessionId: z.string().optional(),
  applicationId: z.string().optional(),
  application: applicationSchema.optional(),
};

export const interactionEventSchema = z.looseObject({
  ...envelope,
  event: z.enum(INTERACTION_EVENTS),
  interactionEvent: z.enum(['SignIn', 'Register', 'ForgotPassword']).optional(),
  sessionId: z.string().optional(),
  userAgent: z.string().optional(),
  userIp: z.string().optional(),
  userId: z.string().optional(),
  user: userSchema.optional(),
  application: applicationSchema.optional(),
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
  data: z.record(z.string(), z.unknown()).optional(),
});

export const membershipEventSchema = z.looseObject({
  ...envelope,
  ...apiContext,
  event: z.literal('Organization.Membership.Updated'),
  organizationId: z.string(),
  addedUserIds: z.array(z.string()).optional(),
  removedUserIds: z.array(z.string()).optional(),
  addedApplicationIds: z.array(z.string()).optional(),
  removedApplicationIds: z.array(z.string()).optional(),
});

const otherDataEvents = DATA_EVENTS.filter(
  (name) => !name.startsWith('User.') && name !== 'Organization.Membership.Updated',
);

/** Role, scope, organization, organization-role and -scope events; `*.Deleted` carry no `data` at all. */
export const entityEventSchema = z.looseObject({
  ...envelope,
  ...apiContext,
  event: z.enum(otherDataEvents as [string, ...string[]]),
  data: z.unknown().optional(),
});

export const exceptionEventSchema = z.looseObject({
  ...envelope,
  event: z.enum(EXCEPTION_EVENTS),
  userAgent: z.string().optional(),
  ip: z.string().optional(),
  // Identifier.Lockout: {type, value}; Message.RateLimited: {action, recipient}; Grant.LimitExceeded: userId, …
  type: z.string().optional(),
  value: z.string().optional(),
  action: z.string().optional(),
  recipient: z.string().optional(),
  userId: z.string().optional(),
  revokedGrantIds: z.array(z.string()).optional(),
});
