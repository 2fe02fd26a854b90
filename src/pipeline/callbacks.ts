import type { AutomationInput } from '../automations';
import type { PipelineConfig } from '../config';
import { sha256Hex } from '../hash';
import {
  type SignatureResult,
  verifyGitHubSignature,
  verifyStandardWebhook,
  verifyStripeSignature,
} from '../webhook-signature';
import type { Enqueue } from './enqueue';
import { decodeJson, type IngestOutcome, readBody, recordAndAnswer, reject } from './ingest';
import { inputOf } from './inputs';

/** Providers `POST /callbacks/:provider` knows. */
export const CALLBACK_PROVIDERS = ['stripe', 'github', 'standard-webhooks'] as const;
export type CallbackProvider = (typeof CALLBACK_PROVIDERS)[number];

export interface CallbackInput {
  provider: string;
  body: ReadableStream<Uint8Array> | null;
  contentLength: string | null;
  header: (name: string) => string | null;
  config: Pick<PipelineConfig, 'callbacks'>;
  enqueue: Pick<Enqueue, 'record'>;
  now: () => number;
  wanted: (input: AutomationInput) => boolean;
}

/**
 * What identifies a verified callback: the sender's own ID, its event type, and what its event key is made of — the
 * sender's ID when the signature covers it (Stripe's is in the body, Standard Webhooks signs `webhook-id`), the
 * signed body otherwise (GitHub does not sign `X-GitHub-Delivery`: a captured delivery resent under a new ID is
 * still a duplicate).
 */
interface Identified {
  externalId: string;
  eventType: string;
  dedupe: string;
}

function identify(
  provider: CallbackProvider,
  json: unknown,
  body: string,
  header: CallbackInput['header'],
): Identified | string {
  const object =
    typeof json === 'object' && json !== null && !Array.isArray(json)
      ? (json as Record<string, unknown>)
      : undefined;
  if (!object) return 'payload is not a JSON object';
  switch (provider) {
    case 'stripe':
      if (typeof object.id !== 'string' || typeof object.type !== 'string') return 'id and type are required';
      return { externalId: object.id, eventType: object.type, dedupe: object.id };
    case 'github': {
      const delivery = header('x-github-delivery');
      const name = header('x-github-event');
      if (!delivery || !name) return 'X-GitHub-Delivery and X-GitHub-Event are required';
      const action = typeof object.action === 'string' ? `.${object.action}` : '';
      return { externalId: delivery, eventType: `${name}${action}`.slice(0, 200), dedupe: `body:${body}` };
    }
    case 'standard-webhooks':
      return {
        externalId: header('webhook-id') ?? '',
        eventType: typeof object.type === 'string' ? object.type.slice(0, 200) : 'webhook',
        dedupe: header('webhook-id') ?? '',
      };
  }
}

/**
 * One callback from another SaaS, through the same path as Logto's webhooks: unknown provider → 404, size cap →
 * signature over the raw bytes (before parsing; Stripe and Standard Webhooks also check their signed timestamp, 5 min)
 * → JSON → the sender's event ID as the dedupe key → journal → run. Nothing is recorded unless the signature holds.
 */
export async function ingestCallback(input: CallbackInput): Promise<IngestOutcome> {
  const provider = input.provider as CallbackProvider;
  if (!CALLBACK_PROVIDERS.includes(provider)) return reject(404, 'unknown_provider');
  const secrets = input.config.callbacks[provider];
  if (!secrets || secrets.length === 0) return reject(404, 'provider_not_configured');
  const raw = await readBody(input.body, input.contentLength);
  if (!(raw instanceof Uint8Array)) return raw;

  let verdict: SignatureResult;
  if (provider === 'stripe')
    verdict = await verifyStripeSignature(raw, input.header('stripe-signature'), secrets, input.now());
  else if (provider === 'github')
    verdict = await verifyGitHubSignature(raw, input.header('x-hub-signature-256'), secrets);
  else {
    verdict = await verifyStandardWebhook(
      raw,
      {
        id: input.header('webhook-id'),
        timestamp: input.header('webhook-timestamp'),
        signature: input.header('webhook-signature'),
      },
      secrets,
      input.now(),
    );
  }
  if (!verdict.ok) return reject(401, 'invalid_signature', verdict.reason);

  const decoded = decodeJson(raw);
  if (!decoded) return reject(400, 'invalid_json');
  const { text, json } = decoded;
  const identified = identify(provider, json, text, input.header);
  if (typeof identified === 'string') return reject(400, 'invalid_payload', identified);
  const key = await sha256Hex(`${provider}:${identified.dedupe}`);
  const parsed = inputOf({
    source: provider,
    eventType: identified.eventType,
    rawBody: text,
    externalId: identified.externalId,
    receivedAt: input.now(),
  });
  if (!parsed.ok) return reject(400, 'invalid_payload', parsed.reason);
  const wanted = input.wanted(parsed.input);
  return recordAndAnswer(input.enqueue, {
    eventKey: key,
    source: provider,
    eventType: identified.eventType,
    subject: null,
    status: wanted ? 'received' : 'ignored',
    rawBody: text,
    externalId: identified.externalId.slice(0, 256),
    reason: wanted ? undefined : { code: 'no_automation', message: 'no automation acts on this event' },
  });
}
