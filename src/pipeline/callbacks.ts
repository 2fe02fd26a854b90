import type { AutomationInput } from '../automations';
import type { PipelineConfig } from '../config';
import { sha256Hex } from '../hash';
import { callbackSource, decodeJson, inputOf } from '../sources';
import type { Enqueue } from './enqueue';
import { type IngestOutcome, readBody, recordAndAnswer, reject } from './ingest';

export interface CallbackInput {
  provider: string;
  /** The callback, its body unread. */
  request: Request;
  config: Pick<PipelineConfig, 'callbacks'>;
  enqueue: Pick<Enqueue, 'record'>;
  now: () => number;
  wanted: (input: AutomationInput) => boolean;
}

/**
 * One callback from another SaaS, through the same path as Logto's webhooks: unknown provider → 404, size cap →
 * the source's signature check over the raw bytes (before parsing) → JSON → the source's identity (its key) →
 * validation into an automation input → journal → run. Nothing is recorded unless the signature holds. What differs
 * per sender lives in its file under src/sources.
 */
export async function ingestCallback(input: CallbackInput): Promise<IngestOutcome> {
  const source = callbackSource(input.provider);
  if (!source) return reject(404, 'unknown_provider');
  const secrets = input.config.callbacks[source.name as keyof PipelineConfig['callbacks']];
  if (!secrets?.length) return reject(404, 'provider_not_configured');
  const raw = await readBody(input.request);
  if (!(raw instanceof Uint8Array)) return raw;

  const header = (name: string) => input.request.headers.get(name);
  const verdict = await source.verify(raw, header, secrets, input.now());
  if (!verdict.ok) return reject(401, 'invalid_signature', verdict.reason);

  const decoded = decodeJson(raw);
  if (!decoded) return reject(400, 'invalid_json');
  const { text, json } = decoded;
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    return reject(400, 'invalid_payload', 'payload is not a JSON object');
  const identified = source.identify(json as Record<string, unknown>, text, header);
  if (typeof identified === 'string') return reject(400, 'invalid_payload', identified);
  const key = await sha256Hex(`${source.name}:${identified.dedupe}`);
  const parsed = inputOf({
    source: source.name,
    eventType: identified.eventType,
    rawBody: text,
    externalId: identified.externalId,
    receivedAt: input.now(),
  });
  if (!parsed.ok) return reject(400, 'invalid_payload', parsed.reason);
  const wanted = input.wanted(parsed.input);
  return recordAndAnswer(input.enqueue, {
    eventKey: key,
    source: source.name,
    eventType: identified.eventType,
    subject: null,
    status: wanted ? 'received' : 'ignored',
    rawBody: text,
    externalId: identified.externalId.slice(0, 256),
    reason: wanted ? undefined : { code: 'no_automation', message: 'no automation acts on this event' },
  });
}
