import * as v from 'valibot';
import { booleanValue, finiteNumber, looseObject, record } from '../validation';

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
/** The user events that carry the user (`User.Data.Updated` may carry only customData). */
export const USER_EVENTS = ['User.Created', 'User.Deleted', 'User.SuspensionStatus.Updated'] as const;

/*
 * The schemas below leave out `event`: `parseLogtoEvent` picks a schema by the event name, which is all the checking
 * the name needs; the types in index.ts add it.
 */

/**
 * An ISO 8601 date and time with seconds and an offset, as Logto writes `createdAt`
 * (`2026-01-02T03:04:05.678Z`, `…+02:00`): a real calendar day, hours 00–23, any fraction of a second.
 */
const ISO_DATE_TIME =
  /^\d{4}-\d\d-\d\dT(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d+)?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/;
const isIsoDateTime = (value: string): boolean => {
  // The day must exist: Date rolls 2023-02-29 over to 03-01 (and refuses month 13), so it must read back the same.
  const day = value.slice(0, 10);
  const time = Date.parse(day);
  return ISO_DATE_TIME.test(value) && !Number.isNaN(time) && new Date(time).toISOString().startsWith(day);
};
const isoDateTime = v.pipe(v.string(), v.check(isIsoDateTime));

// Shared field schemas (valibot schemas are immutable: one instance serves every field).
const optionalString = v.optional(v.string());
const nullableString = v.optional(v.nullable(v.string()));
const optionalStrings = v.optional(v.array(v.string()));
// A JSON number is always finite: the finite number the configuration uses serves here too.
const optionalNumber = v.optional(finiteNumber);
const optionalRecord = v.optional(record(v.string(), v.unknown()));

/** A user as Logto puts it in payloads; unknown fields pass through. Times are epoch milliseconds. */
export const userSchema = looseObject({
  id: v.string(),
  username: nullableString,
  primaryEmail: nullableString,
  primaryPhone: nullableString,
  name: nullableString,
  avatar: nullableString,
  customData: optionalRecord,
  identities: v.optional(record(v.string(), looseObject({ userId: v.string() }))),
  lastSignInAt: v.optional(v.nullable(finiteNumber)),
  createdAt: optionalNumber,
  updatedAt: optionalNumber,
  applicationId: nullableString,
  isSuspended: v.optional(booleanValue),
});

const application = v.optional(
  looseObject({
    id: v.string(),
    type: optionalString,
    name: optionalString,
  }),
);

/** Fields every payload carries: `hookId` names the webhook configuration, not the delivery. */
export const envelope = {
  createdAt: isoDateTime,
  hookId: v.pipe(v.string(), v.minLength(1)),
};

/** The envelope of a data event, with the Management API context Logto adds when an API call caused it. */
const dataEnvelope = {
  ...envelope,
  userAgent: optionalString,
  ip: optionalString,
  path: optionalString,
  method: optionalString,
  status: optionalNumber,
  params: optionalRecord,
  matchedRoute: optionalString,
  interactionEvent: optionalString,
  sessionId: optionalString,
  applicationId: optionalString,
  application,
};

export const interactionEventSchema = looseObject({
  ...envelope,
  interactionEvent: v.optional(v.picklist(['SignIn', 'Register', 'ForgotPassword'])),
  sessionId: optionalString,
  userAgent: optionalString,
  userIp: optionalString,
  userId: optionalString,
  user: v.optional(userSchema),
  application,
});

/** {@link USER_EVENTS} carry a user; `User.Data.Updated` may carry only customData. */
export const userEventSchema = looseObject({
  ...dataEnvelope,
  data: userSchema,
});

export const userDataUpdatedSchema = looseObject({
  ...dataEnvelope,
  data: optionalRecord,
});

export const membershipEventSchema = looseObject({
  ...dataEnvelope,
  organizationId: v.string(),
  addedUserIds: optionalStrings,
  removedUserIds: optionalStrings,
  addedApplicationIds: optionalStrings,
  removedApplicationIds: optionalStrings,
});

/** Role, scope, organization, organization-role and -scope events; `*.Deleted` carry no `data` at all. */
export const entityEventSchema = looseObject({
  ...dataEnvelope,
  data: v.optional(v.unknown()),
});

export const exceptionEventSchema = looseObject({
  ...envelope,
  userAgent: optionalString,
  ip: optionalString,
  // Identifier.Lockout: {type, value}; Message.RateLimited: {action, recipient}; Grant.LimitExceeded: userId, …
  type: optionalString,
  value: optionalString,
  action: optionalString,
  recipient: optionalString,
  userId: optionalString,
  revokedGrantIds: optionalStrings,
});
