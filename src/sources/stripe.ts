import { verifyStripeSignature } from '../webhook-signature';
import { type CallbackSource, isObject } from './types';

/**
 * Stripe (`POST /callbacks/stripe`, STRIPE_WEBHOOK_SECRET): `Stripe-Signature` over `<t>.<body>` with its signed
 * timestamp checked; keyed by the event's `id` (inside the signed body). Handlers subscribe to `stripe:<type>`.
 */
export const stripeSource: CallbackSource<'stripe'> = {
  name: 'stripe',
  verify: (raw, header, secrets, now) => verifyStripeSignature(raw, header('stripe-signature'), secrets, now),
  identify(object) {
    if (typeof object.id !== 'string' || typeof object.type !== 'string') return 'id and type are required';
    return { externalId: object.id, eventType: object.type, dedupe: object.id };
  },
  inputOf: (_row, json) =>
    isObject(json) && typeof json.id === 'string' && typeof json.type === 'string' && isObject(json.data)
      ? { ok: true, input: { source: 'stripe', event: json as never } }
      : { ok: false, reason: 'not a Stripe event' },
  handlerView: (input) => ({ names: [`stripe:${input.event.type}`, 'stripe:*'], event: input.event }),
};
