import * as v from 'valibot';
import { looseObject, record } from '../validation';

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

/**
 * An ISO 8601 date and time with seconds and an offset, as Logto writes `createdAt`
 * (`2026-01-02T03:04:05.678Z`, `…+02:00`): a real calendar day, hours 00–23, any fraction of a second.
 */
const ISO_DATE_TIME =
  /^(\d{4})-(\d\d)-(\d\d)T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d+)?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/;
const isIsoDateTime = (value: string): boolean => {
  const match = ISO_DATE_TIME.exec(value);
  if (!match) return false;
  const [year, month, day] = match.slice(1).map(Number) as [number, number, number];
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 0;
  return day >= 1 && day <= days;
};
const isoDateTime = v.pipe(v.string(), v.check(isIsoDateTime));

const nullableString = v.optional(v.nullable(v.string()));

/** A user as Logto puts it in payloads; unknown fields pass through. Times are epoch milliseconds. */
export const userSchema = looseObject({
  id: v.string(),
  username: nullableString,
  primaryEmail: nullableString,
  primaryPhone: nullableString,
  name: nullableString,
  avatar: nullableString,
  customData: v.optional(record(v.string(), v.unknown())),
  identities: v.optional(record(v.string(), looseObject({ userId: v.string() }))),
  lastSignInAt: v.optional(v.nullable(v.number())),
  createdAt: v.optional(v.number()),
  updatedAt: v.optional(v.number()),
  applicationId: nullableString,
  isSuspended: v.optional(v.boolean()),
});

const applicationSchema = looseObject({
  id: v.string(),
  type: v.optional(v.string()),
  name: v.optional(v.string()),
});

/** Fields every payload carries: `hookId` names the webhook configuration, not the delivery. */
export const envelope = {
  createdAt: isoDateTime,
  hookId: v.pipe(v.string(), v.minLength(1)),
};

/** The Management API context Logto adds to data events caused by an API call. */
const apiContext = {
  userAgent: v.optional(v.string()),
  ip: v.optional(v.string()),
  path: v.optional(v.string()),
  method: v.optional(v.string()),
  status: v.optional(v.number()),
  params: v.optional(record(v.string(), v.unknown())),
  matchedRoute: v.optional(v.string()),
  interactionEvent: v.optional(v.string()),
  sessionId: v.optional(v.string()),
  applicationId: v.optional(v.string()),
  application: v.optional(applicationSchema),
};

export const interactionEventSchema = looseObject({
  ...envelope,
  event: v.picklist(INTERACTION_EVENTS),
  interactionEvent: v.optional(v.picklist(['SignIn', 'Register', 'ForgotPassword'])),
  sessionId: v.optional(v.string()),
  userAgent: v.optional(v.string()),
  userIp: v.optional(v.string()),
  userId: v.optional(v.string()),
  user: v.optional(userSchema),
  application: v.optional(applicationSchema),
});

/** `User.Created|Deleted|SuspensionStatus.Updated` carry a user; `User.Data.Updated` may carry only customData. */
export const userEventSchema = looseObject({
  ...envelope,
  ...apiContext,
  event: v.picklist(['User.Created', 'User.Deleted', 'User.SuspensionStatus.Updated']),
  data: userSchema,
});

export const userDataUpdatedSchema = looseObject({
  ...envelope,
  ...apiContext,
  event: v.literal('User.Data.Updated'),
  data: v.optional(record(v.string(), v.unknown())),
});

export const membershipEventSchema = looseObject({
  ...envelope,
  ...apiContext,
  event: v.literal('Organization.Membership.Updated'),
  organizationId: v.string(),
  addedUserIds: v.optional(v.array(v.string())),
  removedUserIds: v.optional(v.array(v.string())),
  addedApplicationIds: v.optional(v.array(v.string())),
  removedApplicationIds: v.optional(v.array(v.string())),
});

const otherDataEvents = DATA_EVENTS.filter(
  (name) => !name.startsWith('User.') && name !== 'Organization.Membership.Updated',
);

/** Role, scope, organization, organization-role and -scope events; `*.Deleted` carry no `data` at all. */
export const entityEventSchema = looseObject({
  ...envelope,
  ...apiContext,
  event: v.picklist(otherDataEvents as [string, ...string[]]),
  data: v.optional(v.unknown()),
});

export const exceptionEventSchema = looseObject({
  ...envelope,
  event: v.picklist(EXCEPTION_EVENTS),
  userAgent: v.optional(v.string()),
  ip: v.optional(v.string()),
  // Identifier.Lockout: {type, value}; Message.RateLimited: {action, recipient}; Grant.LimitExceeded: userId, …
  type: v.optional(v.string()),
  value: v.optional(v.string()),
  action: v.optional(v.string()),
  recipient: v.optional(v.string()),
  userId: v.optional(v.string()),
  revokedGrantIds: v.optional(v.array(v.string())),
});
