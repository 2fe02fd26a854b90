import type { AutomationInput } from '../automations';
import type { PipelineConfig } from '../config';
import type { AnswerCode } from '../errors';
import type { NewEvent } from '../journal';
import { log } from '../log';
import { logtoDeliveryRecord } from '../sources';
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
  /** The delivery, its body unread. */
  request: Request;
  config: Pick<PipelineConfig, 'signingKeys' | 'maxAgeMs' | 'maxFutureMs'>;
  enqueue: Pick<Enqueue, 'record'>;
  now: () => number;
  /** The automations that act on this input ({@link planFor}); an event none acts on is recorded as `ignored`. */
  plan: (input: AutomationInput) => PlannedAutomation[];
}

/** An error answer (an undefined `reason` is left out of the JSON body). */
export const reject = (
  status: IngestOutcome['status'],
  error: AnswerCode,
  reason?: string,
): IngestOutcome => ({
  status,
  body: { error, reason },
});

/** The raw body, read once under the size cap; a 413 outcome when it is larger (declared or actual). */
export async function readBody(request: Request): Promise<Uint8Array | IngestOutcome> {
  if (Number(request.headers.get('content-length') ?? '0') > MAX_BODY_BYTES)
    return reject(413, 'payload_too_large');
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel();
      return reject(413, 'payload_too_large');
    }
    chunks.push(value);
  }
  return new Uint8Array(await new Blob(chunks).arrayBuffer());
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
    log('error', 'journal.insert_failed', {
      eventKey: key,
      source: event.source,
      error: error instanceof Error ? error.message : 'unknown error',
    });
    return reject(503, 'journal_unavailable');
  }
  if (!recorded.inserted) return { status: 200, body: { status: 'duplicate', eventKey: key } };
  if (!recorded.start) return { status: 200, body: { status: event.status, eventKey: key } };
  return { status: 202, body: { status: 'accepted', eventKey: key }, start: true };
}

/**
 * One Logto webhook delivery: size cap, then src/sources/logto-delivered.ts (signature over the raw bytes before any
 * parsing → UTF-8 → JSON → schema → freshness → canonical key), then the journal insert (the dedupe). Only a
 * recorded event gets a 2xx; a journal failure is a 503 so a sender that retries will retry.
 */
export async function ingestLogtoDelivery(input: IngestInput): Promise<IngestOutcome> {
  const raw = await readBody(input.request);
  if (!(raw instanceof Uint8Array)) return raw;
  const signature = input.request.headers.get('logto-signature-sha-256');
  const record = await logtoDeliveryRecord(raw, signature, input.config, input.now(), input.plan);
  if ('error' in record) return reject(record.status, record.error, record.reason);
  return recordAndAnswer(input.enqueue, record);
}
