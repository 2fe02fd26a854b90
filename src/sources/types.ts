import type { AutomationInput, AutomationSource } from '../automations';
import type { SignatureResult } from '../webhook-signature';

/** What a journal row gives back to rebuild its run's input. */
export interface SourceRow {
  source: string;
  eventType: string;
  rawBody: string;
  externalId: string | null;
  receivedAt: number;
}

export type InputResult = { ok: true; input: AutomationInput } | { ok: false; reason: string };

/** What a `defineAutomation()` handler subscribes to (`on` names) and receives for an input of a source. */
export interface HandlerView {
  names: string[];
  event: unknown;
}

/**
 * One way events reach the Worker. Everything about a source lives in its file: how it is verified and keyed
 * (callbacks), how a journal row validates into an automation input, and the names handlers subscribe with.
 */
export interface Source<S extends AutomationSource = AutomationSource> {
  /** The journal's `source` column. */
  name: S;
  /** Validates a journal row's raw body into the input a run processes (on arrival and again for each run). */
  inputOf(row: SourceRow, json: unknown): InputResult;
  /** The subscription names and handler event for an input of this source; undefined: handlers never see it. */
  handlerView(input: Extract<AutomationInput, { source: S }>): HandlerView | undefined;
}

/** A header reader (case-insensitive names). */
export type HeaderReader = (name: string) => string | null;

/**
 * What identifies a verified callback: the sender's own ID, its event type, and what its event key is made of — the
 * sender's ID when the signature covers it, the signed body otherwise.
 */
export interface Identified {
  externalId: string;
  eventType: string;
  dedupe: string;
}

/** A source that arrives at `POST /callbacks/<name>`, signed with the secrets configured for it. */
export interface CallbackSource<S extends AutomationSource = AutomationSource> extends Source<S> {
  /** Verifies the signature over the raw bytes, before anything is parsed. */
  verify(raw: Uint8Array, header: HeaderReader, secrets: string[], now: number): Promise<SignatureResult>;
  /** The event's identity from the verified JSON object; a string says why it is not a valid event. */
  identify(object: Record<string, unknown>, body: string, header: HeaderReader): Identified | string;
}

export { isObject } from '../validation';
