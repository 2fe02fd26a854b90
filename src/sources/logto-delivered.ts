import type { PipelineConfig } from '../config';
import type { AnswerCode } from '../errors';
import { eventKey, parseLogtoEvent } from '../events';
import type { NewEvent } from '../journal';
import { verifyLogtoSignature } from '../webhook-signature';
import { logtoEventRecord, type Planner } from './logto';

/** Why a delivery is refused, as the HTTP answer says it. */
export interface Refusal {
  status: 400 | 401;
  error: AnswerCode;
  reason?: string;
}

/** Strict UTF-8 then JSON; undefined when either fails. */
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
export function decodeJson(raw: Uint8Array): { text: string; json: unknown } | undefined {
  try {
    const text = utf8.decode(raw);
    return { text, json: JSON.parse(text) };
  } catch {
    return undefined;
  }
}

/**
 * A live Logto delivery (`POST /webhooks/logto`), in the order the invariants demand: the hex HMAC-SHA256 of the raw
 * bytes in `logto-signature-sha-256` (current or previous key, before any parsing) → UTF-8 → JSON → schema →
 * freshness (`createdAt` within WEBHOOK_MAX_AGE_SECONDS) → the journal record, keyed by canonical JSON; `legacyKey`
 * is the raw bytes' key rows journaled before canonical keys carry.
 */
export async function logtoDeliveryRecord(
  raw: Uint8Array,
  signature: string | null,
  config: Pick<PipelineConfig, 'signingKeys' | 'maxAgeMs' | 'maxFutureMs'>,
  now: number,
  planner: Planner,
): Promise<NewEvent | Refusal> {
  const verdict = await verifyLogtoSignature(raw, signature, config.signingKeys);
  if (!verdict.ok) return { status: 401, error: 'invalid_signature', reason: verdict.reason };
  const decoded = decodeJson(raw);
  if (!decoded) return { status: 400, error: 'invalid_json' };
  const parsed = parseLogtoEvent(decoded.json);
  if (!parsed.ok) return { status: 400, error: 'invalid_payload', reason: parsed.reason };
  const createdAt = Date.parse(parsed.event.createdAt);
  if (createdAt < now - config.maxAgeMs) return { status: 401, error: 'stale_event' };
  if (createdAt > now + config.maxFutureMs) return { status: 401, error: 'future_event' };
  const record = await logtoEventRecord(parsed.event, decoded.json, decoded.text, planner);
  return { ...record, legacyKey: await eventKey(raw) };
}
