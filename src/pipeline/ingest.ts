import type { AutomationInput } from '../automations';
import type { PipelineConfig } from '../config';
import { eventKey, type LogtoEvent, logtoEventKey, parseLogtoEvent, subjectOf, userAgentOf } from '../events';
import type { ArrivedVia, NewEvent } from '../journal';
import { PROJECT_USER_AGENT } from '../logto-client';
import { verifyLogtoSignature } from '../webhook-signature';
import type { Enqueue } from './enqueue';
import type { PlannedAutomation } from './plan';

/** Largest webhook body accepted (Logto's payloads are a few KiB). */
export const MAX_BODY_BYTES = 1024 * 1024;

/** The answer to one delivery. `start`: a new event was recorded for processing (wake the run starter). */
export interface IngestOutcome {
  status: 200 | 202 | 400 | 401 | 404 | 413 | 503;
  body: { status?: string; error?: string; reason?: string; eventKey?: string };
  start?: boolean;
}

export interface IngestInput {
  body: ReadableStream<Uint8Array> | null;
  contentLength: string | null;
  signature: string | null;
  config: Pick<PipelineConfig, 'signingKeys' | 'maxAgeMs' | 'maxFutureMs'>;
  enqueue: Pick<Enqueue, 'record'>;
  now: () => number;
  /** The automations that act on this input ({@link planFor}); an event none acts on is recorded as `ignored`. */
  plan: (input: AutomationInput) => PlannedAutomation[];
}

export const reject = (status: IngestOutcome['status'], error: string, reason?: string): IngestOutcome => ({
  status,
  body: reason ? { error, reason } : { error },
});

/** Reads at most `limit` bytes; undefined when the body is larger. */
async function readCapped(body: ReadableStream<Uint8Array> | null, limit: number) {
  if (!body) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  if (chunks.length === 1 && chunks[0]) return chunks[0];
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The raw body, read once under the size cap; a 413 outcome when it is larger (declared or actual). */
export async function readBody(
  body: ReadableStream<Uint8Array> | null,
  contentLength: string | null,
): Promise<Uint8Array | IngestOutcome> {
  if (Number(contentLength ?? '0') > MAX_BODY_BYTES) return reject(413, 'payload_too_large');
  return (await readCapped(body, MAX_BODY_BYTES)) ?? reject(413, 'payload_too_large');
}

/** Strict UTF-8 then JSON; undefined when either fails (→ 400 invalid_json). */
export function decodeJson(raw: Uint8Array): { text: string; json: unknown } | undefined {
  try {
    const text = utf8.decode(raw);
    return { text, json: JSON.parse(text) };
  } catch {
    return undefined;
  }
}

/**
 * Records a verified event and answers: only a recorded event gets a 2xx (202 with a run to start when it is
 * `received`, 200 for a duplicate or an `ignored`/`self` one); a journal failure is a 503 so a sender that retries will.
 */
export async function recordAndAnswer(
  enqueue: Pick<Enqueue, 'record'>,
  event: NewEvent,
): Promise<IngestOutcome> {
  const key = event.eventKey;
  let recorded: Awaited<ReturnType<Enqueue['record']>>;
  try {
    recorded = await enqueue.record(event);
  } catch (error) {
    console.error(`journal insert failed: ${error instanceof Error ? error.message : 'unknown error'}`);
    return reject(503, 'journal_unavailable');
  }
  if (!recorded.inserted) return { status: 200, body: { status: 'duplicate', eventKey: key } };
  if (!recorded.start) return { status: 200, body: { status: event.status, eventKey: key } };
  return { status: 202, body: { status: 'accepted', eventKey: key }, start: true };
}

/** Is the payload's User-Agent this project's own (the event echoes one of our Management API writes)? */
export const isOwnEvent = (event: LogtoEvent) => userAgentOf(event)?.startsWith(PROJECT_USER_AGENT) === true;

/**
 * One Logto webhook delivery, in the order the invariants demand: size cap → signature over the raw bytes (before
 * any parsing) → UTF-8 → JSON → schema → freshness → event key → journal insert (the dedupe). Only a recorded event
 * gets a 2xx; a journal failure is a 503 so a sender that retries will retry.
 */
export async function ingestLogtoDelivery(input: IngestInput): Promise<IngestOutcome> {
  const raw = await readBody(input.body, input.contentLength);
  if (!(raw instanceof Uint8Array)) return raw;

  const verdict = await verifyLogtoSignature(raw, input.signature, input.config.signingKeys);
  if (!verdict.ok) return reject(401, 'invalid_signature', verdict.reason);

  const decoded = decodeJson(raw);
  if (!decoded) return reject(400, 'invalid_json');
  const { text, json } = decoded;
  const parsed = parseLogtoEvent(json);
  if (!parsed.ok) return reject(400, 'invalid_payload', parsed.reason);
  const event = parsed.event;

  const createdAt = Date.parse(event.createdAt);
  const now = input.now();
  if (createdAt < now - input.config.maxAgeMs) return reject(401, 'stale_event');
  if (createdAt > now + input.config.maxFutureMs) return reject(401, 'future_event');

  const record = await logtoEventRecord(event, json, text, input.plan);
  // Rows journaled before canonical keys carry the raw bytes' key; a delivery matching one of those is a duplicate.
  return recordAndAnswer(input.enqueue, { ...record, legacyKey: await eventKey(raw) });
}

/**
 * A verified, validated Logto event as the journal records it, however it arrived: keyed by its canonical JSON (a
 * live delivery and the same payload read back from Logto's hook log get the same key), `self` when it echoes this
 * Worker's own write, `ignored` when no automation wants it, else `received`.
 */
export async function logtoEventRecord(
  event: LogtoEvent,
  json: unknown,
  rawBody: string,
  planner: (input: AutomationInput) => PlannedAutomation[],
  arrivedVia: ArrivedVia = 'delivered',
): Promise<NewEvent> {
  const own = isOwnEvent(event);
  const plan = own || event.family === 'unknown' ? [] : planner({ source: 'logto', event });
  const wanted = plan.length > 0;
  const reason = own
    ? { code: 'own_write', message: 'caused by this Worker’s own Management API call' }
    : event.family === 'unknown'
      ? { code: 'unknown_event', message: `unknown event name ${event.event.slice(0, 100)}` }
      : wanted
        ? undefined
        : { code: 'no_automation', message: 'no automation acts on this event' };
  return {
    eventKey: await logtoEventKey(json),
    source: 'logto',
    eventType: event.event.slice(0, 200),
    subject: subjectOf(event) ?? null,
    status: own ? 'self' : wanted ? 'received' : 'ignored',
    rawBody,
    reason,
    arrivedVia,
  };
}
