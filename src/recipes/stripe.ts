import * as v from 'valibot';
import {
  type Automation,
  type AutomationContext,
  AutomationError,
  assignRolesByName,
  objectField,
  revokeRolesByName,
  type StripeEvent,
  stringField,
} from '../automations';
import type { LogtoClient } from '../logto-client';
import { record, strictObject } from '../validation';
import { type ImportedRecipe, nonEmpty, recipeOptions, roleNames } from './config';

/** Built when the recipe is imported and used (a schema at the top level would be deployed with every bundle). */
const optionsSchema = () =>
  strictObject({
    /** Per Stripe price ID: the Logto roles it grants and the plan name stamped in customData. */
    prices: record(nonEmpty, strictObject({ roles: roleNames, plan: nonEmpty })),
    /** Subscription statuses that grant the price's roles. */
    activeStatuses: v.optional(v.array(v.string()), ['active', 'trialing']),
    /** customData key holding `{customerId, plan, status, subscriptionId, updatedAt}`. */
    customDataKey: v.optional(nonEmpty, 'stripe'),
    /** Metadata field (on the subscription or checkout session) holding the Logto user ID. */
    userIdMetadataKey: v.optional(nonEmpty, 'logtoUserId'),
  });

/** What `stripe({ … })` takes in automations.config.ts. */
export type StripeOptions = v.InferInput<ReturnType<typeof optionsSchema>>;
type Options = v.InferOutput<ReturnType<typeof optionsSchema>>;

/**
 * The Stripe recipe for automations.config.ts: `stripe: stripe({ prices: { price_123: { roles: ['pro'], plan: 'pro' } } })`
 * (set STRIPE_WEBHOOK_SECRET). Its options are checked here, when the configuration loads: a bad field throws naming
 * it (`stripe.prices.price_123.plan`). Imported only by configurations that use it: its code is deployed only then.
 */
export function stripe(options: StripeOptions): ImportedRecipe<'stripe'> {
  return {
    recipe: 'stripe',
    automations: [stripeSubscriptions(recipeOptions('stripe', optionsSchema(), options))],
  };
}

export const STRIPE_EVENTS = [
  'checkout.session.completed',
  'customer.subscription.created',
  'customer.subscription.updated',
  'customer.subscription.deleted',
] as const;

type StripeObject = Record<string, unknown>;
/** `customer` is an ID, or an expanded object with one. */
const customerOf = (object: StripeObject) =>
  stringField(object.customer) ?? stringField(objectField(object.customer).id);

/**
 * Finds the Logto user of a Stripe object: a metadata user ID (or a checkout's `client_reference_id`), then the
 * customer already linked (D1), then the checkout's email (exact match in Logto).
 */
async function findUser(
  logto: LogtoClient,
  ctx: AutomationContext,
  object: StripeObject,
  options: Options,
): Promise<string> {
  const byMetadata =
    stringField(objectField(object.metadata)[options.userIdMetadataKey]) ??
    stringField(object.client_reference_id);
  if (byMetadata) return (await logto.users.get(byMetadata)).id;
  const customer = customerOf(object);
  const linked = customer ? await ctx.links.find('stripe', customer) : undefined;
  if (linked) return linked;
  const email = stringField(objectField(object.customer_details).email) ?? stringField(object.customer_email);
  if (email) {
    for await (const user of logto.users.search({
      fields: { primaryEmail: email },
      fieldModes: { primaryEmail: 'exact' },
    })) {
      return user.id;
    }
  }
  if (object.object === 'subscription') {
    // Retrying helps: the checkout that links the customer may not have been processed yet.
    throw new AutomationError(
      'stripe_customer_not_linked',
      `Stripe customer ${customer ?? '?'} is not linked to a Logto user (yet)`,
      { retryable: true },
    );
  }
  throw new AutomationError(
    'user_not_found',
    'no Logto user matches this Stripe checkout (metadata, customer or email)',
  );
}

/**
 * Recipe: Stripe subscriptions → Logto roles and a plan stamp. `checkout.session.completed` links the Stripe customer
 * to the Logto user (metadata user ID, `client_reference_id` or email); subscription events grant the roles of the
 * subscription's prices while its status is active (or trialing) and remove the roles of every other configured
 * price; `customData.<key>` records `{customerId, subscriptionId, plan, status, updatedAt}`. Events older than the
 * last one applied for the user (Stripe does not order deliveries) change nothing: the order is a watermark in D1,
 * not the `updatedAt` in customData, which the user may be able to write.
 */
export function stripeSubscriptions(options: Options): Automation {
  const allRoles = [...new Set(Object.values(options.prices).flatMap((price) => price.roles))];
  return {
    name: 'stripe',
    logtoEvents: [],
    wants: (input) =>
      input.source === 'stripe' && (STRIPE_EVENTS as readonly string[]).includes(input.event.type),
    async run(ctx) {
      if (ctx.input.source !== 'stripe') return { skipped: true };
      const event: StripeEvent = ctx.input.event;
      const object = event.data.object as StripeObject;
      const customerId = customerOf(object);
      const userId = await ctx.call('find user', async (logto) => {
        const id = await findUser(logto, ctx, object, options);
        if (customerId) await ctx.links.save('stripe', customerId, id);
        return id;
      });
      /** No later event for this user was applied (a dry run advances nothing: it only reads the watermark). */
      const newest = async () => ((await ctx.watermark.current('stripe', userId)) ?? 0) <= event.created;
      // Stripe does not order deliveries. The order is kept in D1 (customData may be writable by the user).
      // The `order` step keeps the value it has always stored (a dry run's watermark, a run's verdict): a run in
      // flight across a deploy reads its stored step back.
      const applies = ctx.dryRun
        ? ((await ctx.call('order', () => ctx.watermark.current('stripe', userId))) ?? 0) <= event.created
        : await ctx.call('order', () => ctx.watermark.advance('stripe', userId, event.created));
      if (!applies) return { userId, skipped: true, reason: 'a newer Stripe event was applied already' };
      const key = options.customDataKey;
      const user = await ctx.call('read user', (logto) => logto.users.get(userId));
      const stamp = objectField(objectField(user.customData)[key]);

      if (event.type === 'checkout.session.completed') {
        const next = { ...stamp, customerId, updatedAt: event.created };
        if (ctx.dryRun) return { userId, wouldMerge: { [key]: next } };
        await ctx.call('stamp customer', (logto) => logto.users.mergeCustomData(userId, { [key]: next }));
        return { userId, customerId };
      }
      const items = (objectField(object.items).data as unknown[] | undefined) ?? [];
      const priceIds = items
        .map((item) => stringField(objectField(objectField(item).price).id))
        .filter((id): id is string => !!id);
      const status = stringField(object.status) ?? 'unknown';
      const active =
        event.type !== 'customer.subscription.deleted' && options.activeStatuses.includes(status);
      // The subscription's configured prices grant their roles while it is active; the first one names the plan.
      const prices = active
        ? priceIds.map((id) => (Object.hasOwn(options.prices, id) ? options.prices[id] : undefined))
        : [];
      const grant = [...new Set(prices.flatMap((price) => price?.roles ?? []))];
      const revoke = allRoles.filter((role) => !grant.includes(role));
      const plan = prices.find((price) => price?.plan)?.plan ?? null;
      const next = {
        customerId,
        subscriptionId: stringField(object.id),
        plan,
        status,
        updatedAt: event.created,
      };
      if (ctx.dryRun)
        return {
          userId,
          wouldGrant: grant,
          wouldRevoke: revoke,
          wouldMerge: { [key]: next },
        };

      // A newer event for this user may have taken the watermark while this one read: it then applies, not this.
      const still = await ctx.call('still newest', newest);
      if (!still) return { userId, skipped: true, reason: 'a newer Stripe event arrived while this one ran' };
      if (grant.length > 0) await ctx.call('grant roles', (logto) => assignRolesByName(logto, userId, grant));
      const removed = await ctx.call('revoke roles', (logto) => revokeRolesByName(logto, userId, revoke));
      await ctx.call('stamp plan', (logto) => logto.users.mergeCustomData(userId, { [key]: next }));
      return { userId, plan, status, granted: grant, revokedCount: removed };
    },
  };
}
