import type * as v from 'valibot';
import { sha256Hex } from '../hash';
import { looseObject, validate } from '../validation';
import {
  DATA_EVENTS,
  EXCEPTION_EVENTS,
  entityEventSchema,
  envelope,
  exceptionEventSchema,
  INTERACTION_EVENTS,
  interactionEventSchema,
  membershipEventSchema,
  userDataUpdatedSchema,
  userEventSchema,
} from './schemas';

export { DATA_EVENTS, EXCEPTION_EVENTS, INTERACTION_EVENTS } from './schemas';

export type InteractionEvent = v.InferOutput<typeof interactionEventSchema> & { family: 'interaction' };
export type UserEvent = v.InferOutput<typeof userEventSchema> & { family: 'user' };
export type UserDataUpdatedEvent = v.InferOutput<typeof userDataUpdatedSchema> & { family: 'user-data' };
export type MembershipEvent = v.InferOutput<typeof membershipEventSchema> & { family: 'membership' };
export type EntityEvent = v.InferOutput<typeof entityEventSchema> & { family: 'entity' };
export type ExceptionEvent = v.InferOutput<typeof exceptionEventSchema> & { family: 'exception' };
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

const FAMILIES: [readonly string[], v.GenericSchema, LogtoEvent['family']][] = [
  [INTERACTION_EVENTS, interactionEventSchema, 'interaction'],
  [['User.Created', 'User.Deleted', 'User.SuspensionStatus.Updated'], userEventSchema, 'user'],
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
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reason: 'payload is not a JSON object' };
  }
  const name = (value as { event?: unknown }).event;
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

/** The User-Agent of whoever caused the event (interaction and API events carry it). */
export const userAgentOf = (event: LogtoEvent): string | undefined =>
  typeof event.userAgent === 'string' ? event.userAgent : undefined;

/**
 * The key of the raw bytes: SHA-256 (hex) of the exact body. Logto events were journaled under it before canonical
 * keys (see {@link logtoEventKey}); kept so those rows still deduplicate.
 */
export const eventKey = (rawBody: ArrayBuffer | Uint8Array): Promise<string> => sha256Hex(rawBody);

/**
 * Canonical JSON: object keys sorted recursively, no whitespace, arrays in order. A live delivery and the same payload
 * read back from Logto's hook log (PostgreSQL jsonb reorders keys) have the same canonical form (logto-reference §0.1:
 * 26 of 26 deliveries).
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item ?? null)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** A Logto event's journal key, however it reached the Worker: SHA-256 (hex) of its canonical JSON. */
export const logtoEventKey = (payload: unknown): Promise<string> => sha256Hex(canonicalJson(payload));
