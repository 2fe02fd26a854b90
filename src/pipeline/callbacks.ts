import type { AutomationInput } from '../automations/types';
import type { PipelineConfig } from '../config/pipeline';
import { sha256Hex } from '../hash';
import type { Journal } from '../journal';
import {
  type SignatureResult,
  verifyGitHubSignature,
  verifyStandardWebhook,
  verifyStripeSignature,
} from '../webhook-signature';
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
  journal: Pick<Journal, 'record'>;
  now: () => number;
  wanted: (input: AutomationInput) => boolean;
}

/** What identifies a verified callback: the sender's own ID (the dedupe key) and its event type. */
interface Identified {
  externalId: string;
  eventType: string;
}

function identify(
  provider: CallbackProvider,
  json: unknown,
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
      return { externalId: object.id, eventType: object.type };
    case 'github': {
      const delivery = header('x-github-delivery');
      const name = header('x-github-event');
      if (!delivery || !name) return 'X-GitHub-Delivery and X-GitHub-Event are required';
      const action = typeof object.action === 'string' ? `.${object.action}` : '';
      return { externalId: delivery, eventType: `${name}${action}`.slice(0, 200) };
    }
    case 'standard-webhooks':
      return {
        externalId: header('webhook-id') ?? '',
        eventType: typeof object.type === 'string' ? object.type.slice(0, 200) : 'webhook',
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
  const identified = identify(provider, json, input.header);
  if (typeof identified === 'string') return reject(400, 'invalid_payload', identified);
  const key = await sha256Hex(`${provider}:${identified.externalId}`);
  const parsed = inputOf({
    source: provider,
    eventType: identified.eventType,
    rawBody: text,
    externalId: identified.externalId,
    receivedAt: input.now(),
  });
  if (!parsed.ok) return reject(400, 'invalid_payload', parsed.reason);
  const wanted = input.wanted(parsed.input);
  return recordAndAnswer(input.journal, {
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
