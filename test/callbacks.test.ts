import { env } from 'cloudflare:workers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invoicePaid } from '../examples/invoice-paid';
import { welcomeFlag } from '../examples/welcome-flag';
import { github as githubRecipe, stripe as stripeRecipe } from '../src/recipes';
import { callWorker, setupPipeline, useRecipes } from './pipeline';
import { testRuntime } from './worker-entry';

let pipeline: Awaited<ReturnType<typeof setupPipeline>>;
const STRIPE_SECRET = env.STRIPE_WEBHOOK_SECRET.split(',')[1] ?? '';
const GITHUB_SECRET = env.GITHUB_WEBHOOK_SECRET;
const STANDARD_SECRET = env.STANDARD_WEBHOOK_SECRET;

beforeAll(async () => {
  pipeline = await setupPipeline();
  for (const name of ['pro', 'github-member']) {
    pipeline.emulator.store.roles.set(`role-${name}`, {
      tenantId: 'default',
      id: `role-${name}`,
      name,
      description: name,
      type: 'User',
      isDefault: false,
    });
  }
  useRecipes({
    stripe: stripeRecipe({ prices: { price_pro: { roles: ['pro'], plan: 'pro' } } }),
    github: githubRecipe({ organizations: { 'acme-gh': { roles: ['github-member'] } } }),
    handlers: [welcomeFlag, invoicePaid],
    reconcile: { enabled: false },
  });
});
afterAll(() => {
  testRuntime.recipes = undefined;
});

const hex = (bytes: ArrayBuffer) =>
  [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, '0')).join('');
async function hmac(key: Uint8Array | string, data: string) {
  const raw = typeof key === 'string' ? new TextEncoder().encode(key) : key;
  const cryptoKey = await crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
  ]);
  return crypto.subtle.sign('HMAC', cryptoKey, new TextEncoder().encode(data));
}
const now = () => Math.floor(Date.now() / 1000);

async function stripe(
  event: Record<string, unknown>,
  options: { secret?: string; t?: number; header?: string } = {},
) {
  const body = JSON.stringify(event);
  const t = options.t ?? now();
  const signature = hex(await hmac(options.secret ?? STRIPE_SECRET, `${t}.${body}`));
  return callWorker('http://worker.test/callbacks/stripe', {
    method: 'POST',
    headers: {
      'stripe-signature': options.header ?? `t=${t},v1=${'0'.repeat(64)},v1=${signature}`,
      'content-type': 'application/json',
    },
    body,
  });
}
async function github(
  name: string,
  payload: Record<string, unknown>,
  delivery: string,
  secret = GITHUB_SECRET,
) {
  const body = JSON.stringify(payload);
  return callWorker('http://worker.test/callbacks/github', {
    method: 'POST',
    headers: {
      'x-github-event': name,
      'x-github-delivery': delivery,
      'x-hub-signature-256': `sha256=${hex(await hmac(secret, body))}`,
    },
    body,
  });
}
async function standard(id: string, payload: unknown, options: { timestamp?: number; secret?: string } = {}) {
  const body = JSON.stringify(payload);
  const timestamp = String(options.timestamp ?? now());
  const key = Uint8Array.from(atob((options.secret ?? STANDARD_SECRET).slice(6)), (c) => c.charCodeAt(0));
  const signature = btoa(
    String.fromCharCode(...new Uint8Array(await hmac(key, `${id}.${timestamp}.${body}`))),
  );
  return callWorker('http://worker.test/callbacks/standard-webhooks', {
    method: 'POST',
    headers: {
      'webhook-id': id,
      'webhook-timestamp': timestamp,
      'webhook-signature': `v1,bm90IGl0 v1,${signature}`,
    },
    body,
  });
}

const subscription = (id: string, type: string, created: number, status: string, customer = 'cus_1') => ({
  id,
  type,
  created,
  data: {
    object: {
      id: 'sub_1',
      object: 'subscription',
      customer,
      status,
      items: { data: [{ price: { id: 'price_pro' } }] },
    },
  },
});

describe('callbacks: verify → journal → durable run → Logto', () => {
  it('rejects bad signatures, stale timestamps and unknown providers with nothing recorded', async () => {
    const before = (await pipeline.journal.events.list({ limit: 100 })).entries.length;
    const event = subscription('evt_bad', 'customer.subscription.created', now(), 'active');
    expect((await stripe(event, { secret: 'whsec_wrong' })).status).toBe(401);
    expect((await stripe(event, { t: now() - 301 })).status).toBe(401);
    expect((await stripe(event, { header: 'v1=abc' })).status).toBe(401);
    expect((await github('ping', { zen: 'x' }, 'd-bad', 'wrong')).status).toBe(401);
    expect((await standard('msg_bad', { type: 'invoice.paid' }, { timestamp: now() + 400 })).status).toBe(
      401,
    );
    expect(
      (await standard('msg_bad', { type: 'invoice.paid' }, { secret: 'whsec_AAAAAAAAAAAAAAAAAAAAAAAA' }))
        .status,
    ).toBe(401);
    const unknown = await callWorker('http://worker.test/callbacks/paypal', { method: 'POST', body: '{}' });
    expect(unknown.status).toBe(404);
    expect((await pipeline.journal.events.list({ limit: 100 })).entries.length).toBe(before);
  });

  it('Stripe: checkout links the customer, the subscription grants the role and stamps the plan, deletion removes it; duplicates and stale events change nothing', async () => {
    const { emulator, journal } = pipeline;
    const user = await emulator.signUp({ username: 'payer', primaryEmail: 'payer@example.com' });
    await pipeline.drain();
    const checkout = {
      id: 'evt_checkout',
      type: 'checkout.session.completed',
      created: now() - 10,
      data: {
        object: {
          id: 'cs_1',
          object: 'checkout.session',
          customer: 'cus_1',
          customer_details: { email: 'payer@example.com' },
        },
      },
    };
    expect((await stripe(checkout)).status).toBe(202);
    const created = subscription('evt_sub_created', 'customer.subscription.created', now() - 5, 'active');
    expect((await stripe(created)).status).toBe(202);
    await pipeline.drain();
    expect(pipeline.rolesOf(user.id)).toContain('pro');
    expect(emulator.store.users.get(user.id)?.customData.stripe).toMatchObject({
      customerId: 'cus_1',
      plan: 'pro',
      status: 'active',
    });

    // Stripe retries with the same event id: 200 duplicate, no run.
    const duplicate = await stripe(created);
    expect(duplicate.status).toBe(200);
    expect(await duplicate.json()).toMatchObject({ status: 'duplicate' });

    const deleted = subscription('evt_sub_deleted', 'customer.subscription.deleted', now(), 'canceled');
    expect((await stripe(deleted)).status).toBe(202);
    await pipeline.drain();
    expect(pipeline.rolesOf(user.id)).not.toContain('pro');
    expect(emulator.store.users.get(user.id)?.customData.stripe).toMatchObject({
      plan: null,
      status: 'canceled',
    });

    // An older update delivered late does not resurrect the role.
    const late = subscription('evt_sub_late', 'customer.subscription.updated', now() - 3, 'active');
    expect((await stripe(late)).status).toBe(202);
    await pipeline.drain();
    expect(pipeline.rolesOf(user.id)).not.toContain('pro');
    const entry = (await journal.events.list({ source: 'stripe', limit: 10 })).entries.find(
      (e) => e.externalId === 'evt_sub_late',
    );
    expect(entry?.status).toBe('done');
    expect(entry?.result).toMatchObject({ stripe: { skipped: true } });
  });

  it('GitHub: member_added grants the role to the Logto user with that GitHub identity, member_removed takes it back', async () => {
    const { emulator } = pipeline;
    const user = await emulator.signUp({ username: 'octocat', identities: { github: { userId: '583231' } } });
    await pipeline.drain();
    const membership = (action: string) => ({
      action,
      organization: { login: 'acme-gh' },
      membership: { user: { id: 583231, login: 'octocat' } },
    });
    expect((await github('organization', membership('member_added'), 'delivery-1')).status).toBe(202);
    await pipeline.drain();
    expect(pipeline.rolesOf(user.id)).toContain('github-member');
    expect((await github('organization', membership('member_added'), 'delivery-1')).status).toBe(200);
    // X-GitHub-Delivery is not signed: the same signed body under another delivery ID is the same event.
    const resent = await github('organization', membership('member_added'), 'delivery-forged');
    expect(await resent.json()).toMatchObject({ status: 'duplicate' });
    expect((await github('organization', membership('member_removed'), 'delivery-2')).status).toBe(202);
    await pipeline.drain();
    expect(pipeline.rolesOf(user.id)).not.toContain('github-member');
    // An operator replaying the member_added after the member_removed grants nothing again: its action is done.
    const added = (
      await pipeline.journal.events.list({ source: 'github', eventType: 'organization.member_added' })
    ).entries[0];
    await pipeline.enqueue.reopen([added?.eventKey ?? '']);
    await pipeline.drain();
    expect(pipeline.rolesOf(user.id)).not.toContain('github-member');
    // An event nobody acts on is recorded as ignored.
    const ping = await github('ping', { zen: 'Keep it logically awesome.' }, 'delivery-3');
    expect(await ping.json()).toMatchObject({ status: 'ignored' });
  });

  it('examples: the welcome flag is set once per sign-up; a Standard Webhooks invoice.paid is recorded on the user', async () => {
    const { emulator } = pipeline;
    emulator.faults.resetCounts();
    const user = await emulator.signUp({ username: 'newbie', primaryEmail: 'newbie@example.com' });
    await pipeline.drain();
    expect(emulator.store.users.get(user.id)?.customData.welcomeTour).toEqual({
      pending: true,
      application: 'spa-app',
    });
    const response = await standard('msg_1', {
      type: 'invoice.paid',
      data: { email: 'newbie@example.com', amount: 900, currency: 'eur' },
    });
    expect(response.status).toBe(202);
    await pipeline.drain();
    expect(emulator.store.users.get(user.id)?.customData.lastPayment).toMatchObject({
      amount: 900,
      currency: 'eur',
    });
    expect(
      (
        await standard('msg_1', {
          type: 'invoice.paid',
          data: { email: 'newbie@example.com', amount: 900, currency: 'eur' },
        })
      ).status,
    ).toBe(200);
  });
});
