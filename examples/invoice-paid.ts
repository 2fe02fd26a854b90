import { defineAutomation } from '../src/recipes';

interface InvoicePaid {
  type: 'invoice.paid';
  data: { email: string; amount: number; currency: string };
}

/**
 * Example handler for a generic Standard Webhooks sender (`POST /callbacks/standard-webhooks`, secret
 * STANDARD_WEBHOOK_SECRET): on `invoice.paid`, find the Logto user by email and record the last payment in
 * customData. Each call is its own durable step (retried with backoff); a sender's retry of the same `webhook-id` is
 * deduplicated by the journal.
 */
export const invoicePaid = defineAutomation({
  name: 'invoice-paid',
  on: ['webhook:invoice.paid'],
  run: async (event, { logto }) => {
    const { data } = event.payload as InvoicePaid;
    const [user] = await logto.users.search({
      fields: { primaryEmail: data.email },
      fieldModes: { primaryEmail: 'exact' },
    });
    if (!user) return { skipped: `no Logto user with email ${data.email}` };
    await logto.users.mergeCustomData(user.id, {
      lastPayment: { amount: data.amount, currency: data.currency, at: event.timestamp },
    });
    return { userId: user.id };
  },
});
