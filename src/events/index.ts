import type * as v from 'valibot';
import { sha256Hex } from '../hash';
import { isObject, looseObject, validate } from '../validation';
import {
  DATA_EVENTS,
  EXCEPTION_EVENTS,
  entityEventSchema,
  envelope,
  exceptionEventSchema,
  INTERACTION_EVENTS,
  interactionEventSchema,
  membershipEventSchema,
  USER_EVENTS,
  userDataUpdatedSchema,
  userEventSchema,
} from './schemas';

export { DATA_EVENTS, EXCEPTION_EVENTS, INTERACTION_EVENTS } from './schemas';

export type InteractionEvent = v.InferOutput<typeof interactionEventSchema> & {
  family: 'interaction';
  event: (typeof INTERACTION_EVENTS)[number];
};
export type UserEvent = v.InferOutput<typeof userEventSchema> & {
  family: 'user';
  event: (typeof USER_EVENTS)[number];
};
export type UserDataUpdatedEvent = v.InferOutput<typeof userDataUpdatedSchema> & {
  family: 'user-data';
  event: 'User.Data.Updated';
};
export type MembershipEvent = v.InferOutput<typeof membershipEventSchema> & {
  family: 'membership';
  event: 'Organization.Membership.Updated';
};
/** Role, scope, organization, organization-role and -scope events. */
export type EntityEvent = v.InferOutput<typeof entityEventSchema> & { family: 'entity'; event: string };
export type ExceptionEvent = v.InferOutput<typeof exceptionEventSchema> & {
  family: 'exception';
  event: (typeof EXCEPTION_EVENTS)[number];
};
/** A well-formed payload whose event name this version does not know; recorded as ignored, not rejected. */
export type UnknownEvent = { family: 'unknown'; event: string; createdAt: string; hookId: string } & Record<
  string,
  unknown
>;

/** Every Logto webhook payload, discriminated by `family`. Unknown fields pass through. */
export type LogtoEvent =
  | InteractionEvent
  | UserEvent
  | UserDataUpdatedEvent
  | MembershipEvent
  | EntityEvent
  | ExceptionEvent
  | UnknownEvent;

/** An event name this version does not know: only the envelope is checked. */
const unknownEventSchema = looseObject(envelope);

export type ParseResult = { ok: true; event: LogtoEvent } | { ok: false; reason: string };

/** Each event name's family and schema: the first entry that lists the name (the user events come before the rest). */
const FAMILIES: [readonly string[], v.GenericSchema, LogtoEvent['family']][] = [
  [INTERACTION_EVENTS, interactionEventSchema, 'interaction'],
  [USER_EVENTS, userEventSchema, 'user'],
  [['User.Data.Updated'], userDataUpdatedSchema, 'user-data'],
  [['Organization.Membership.Updated'], membershipEventSchema, 'membership'],
  [DATA_EVENTS, entityEventSchema, 'entity'],
  [EXCEPTION_EVENTS, exceptionEventSchema, 'exception'],
];

/**
 * Validates a parsed webhook body into a typed {@link LogtoEvent}. A payload must be an object with `event`,
 * `createdAt` (ISO time) and `hookId`; an unknown event name parses as family `unknown`.
 */
export function parseLogtoEvent(value: unknown): ParseResult {
  if (!isObject(value)) return { ok: false, reason: 'payload is not a JSON object' };
  const name = value.event;
  if (typeof name !== 'string' || name.length === 0) return { ok: false, reason: 'event: missing' };
  const family = FAMILIES.find(([names]) => names.includes(name));
  const schema = family?.[1] ?? unknownEventSchema;
  const parsed = validate(schema, value);
  // The first issue's field; the message stays generic (`Invalid input`), as 400 answers have always said.
  if (!parsed.ok) return { ok: false, reason: `${parsed.issues[0]?.path || '(root)'}: Invalid input` };
  return { ok: true, event: { ...(parsed.value as object), family: family?.[2] ?? 'unknown' } as LogtoEvent };
}

/** The user or organization an event is about, when it has one. */
export function subjectOf(event: LogtoEvent): string | undefined {
  switch (event.family) {
    case 'interaction':
      return event.userId ?? event.user?.id;
    case 'user':
      return event.data.id;
    case 'user-data':
      return typeof event.params?.userId === 'string'
        ? event.params.userId
        : (event.data?.id as string | undefined);
    case 'membership':
      return event.organizationId;
    case 'exception':
      return event.userId;
    default:
      return undefined;
  }
}

/**
 * The key of the raw bytes: SHA-256 (hex) of the exact body. Logto events were journaled under it before canonical
 * keys (see {@link logtoEventKey}); kept so those rows still deduplicate.
 */
export const eventKey: (rawBody: ArrayBuffer | Uint8Array) => Promise<string> = sha256Hex;

/**
 * Canonical JSON: object keys sorted recursively, no whitespace, arrays in order. A live delivery and the same payload
 * read back from Logto's hook log (PostgreSQL jsonb reorders keys) have the same canonical form (logto-reference §0.1:
 * 26 of 26 deliveries).
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item ?? null)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    // The default sort compares UTF-16 code units, like `<` on strings.
    const keys = Object.keys(record)
      .filter((key) => record[key] !== undefined)
      .sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** A Logto event's journal key, however it reached the Worker: SHA-256 (hex) of its canonical JSON. */
export const logtoEventKey = (payload: unknown): Promise<string> => sha256Hex(canonicalJson(payload));
