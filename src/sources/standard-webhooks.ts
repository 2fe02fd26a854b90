import { verifyStandardWebhook } from '../webhook-signature';
import { type CallbackSource, isObject } from './types';

/**
 * Standard Webhooks (`POST /callbacks/standard-webhooks`, STANDARD_WEBHOOK_SECRET `whsec_…`): `webhook-signature`
 * over `<id>.<timestamp>.<body>`, timestamp checked; keyed by the signed `webhook-id`. Handlers subscribe to
 * `webhook:<type>`.
 */
export const standardWebhooksSource: CallbackSource<'standard-webhooks'> = {
  name: 'standard-webhooks',
  verify: (raw, header, secrets, now) =>
    verifyStandardWebhook(
      raw,
      {
        id: header('webhook-id'),
        timestamp: header('webhook-timestamp'),
        signature: header('webhook-signature'),
      },
      secrets,
      now,
    ),
  identify(object, _body, header) {
    const id = header('webhook-id') ?? '';
    return {
      externalId: id,
      eventType: typeof object.type === 'string' ? object.type.slice(0, 200) : 'webhook',
      dedupe: id,
    };
  },
  inputOf(row, json) {
    const type = isObject(json) && typeof json.type === 'string' ? json.type : undefined;
    const event = {
      id: row.externalId ?? '',
      timestamp: Math.floor(row.receivedAt / 1000),
      type,
      payload: json,
    };
    return { ok: true, input: { source: 'standard-webhooks', event } };
  },
  handlerView: (input) => ({ names: [`webhook:${input.event.type ?? ''}`, 'webhook:*'], event: input.event }),
};
