import { describe, expect, it } from 'vitest';
import { AutomationConfigError, parseAutomationConfig, type StripeOptions, stripe } from '../src/recipes';
import wranglerToml from '../wrangler.toml?raw';
import { shippedRecipes } from './worker-entry';

const errorOf = (input: unknown) => {
  try {
    parseAutomationConfig(typeof input === 'function' ? input() : input);
  } catch (error) {
    if (error instanceof AutomationConfigError) return error.message;
    throw error;
  }
  return 'valid';
};

describe('automations.config.ts validation', () => {
  it('the shipped configuration is valid and its crons are in wrangler.toml', () => {
    const crons = /crons\s*=\s*\[([^\]]*)\]/.exec(wranglerToml)?.[1] ?? '';
    expect(crons).toContain(`"${shippedRecipes.reconcile.cron}"`);
    expect(crons).toContain(`"${parseAutomationConfig({ cleanup: {} }).cleanup?.cron}"`);
  });

  const bad: [unknown, string][] = [
    [{ personalOrganization: { organizationRoles: [''] } }, 'personalOrganization.organizationRoles.0'],
    [
      { rolesByRule: [{ name: 'x', roles: ['a'], when: {} }] },
      'rolesByRule.0.when: give at least one condition',
    ],
    [
      { rolesByRule: [{ name: 'Bad Name', roles: ['a'], when: { connectors: ['github'] } }] },
      'rolesByRule.0.name',
    ],
    [
      { rolesByRule: [{ name: 'x', roles: ['a'], when: { emailDomains: ['not a domain'] } }] },
      'rolesByRule.0.when.emailDomains.0',
    ],
    [
      { organizationsByRule: [{ name: 'x', when: { connectors: ['github'] } }] },
      'organizationsByRule.0.organizationId',
    ],
    [{ reconcile: { cron: 'every 15 minutes' } }, 'reconcile.cron'],
    [{ cleanup: { action: 'ban' } }, 'cleanup.action'],
    [
      () => ({ stripe: stripe({ prices: { price_1: { roles: ['pro'] } } } as unknown as StripeOptions) }),
      'stripe.prices.price_1.plan',
    ],
    [
      { stripe: { prices: { price_1: { roles: ['pro'], plan: 'pro' } } } },
      "stripe: must be made with stripe({ … }), imported from './src/recipes'",
    ],
    [{ handlers: [{ name: 'x' }] }, 'handlers.0: must be made with defineAutomation()'],
    [{ personalOrganisation: {} }, 'personalOrganisation'],
  ];
  for (const [input, field] of bad) {
    it(`names ${field}`, () => {
      expect(errorOf(input)).toContain(field);
    });
  }

  it('fills in defaults: reconcile every 15 minutes, cleanup off, dry-run off', () => {
    const config = parseAutomationConfig({});
    expect(config.reconcile).toMatchObject({ enabled: true, cron: '*/15 * * * *' });
    expect(config.cleanup).toBeUndefined();
    expect(config.dryRun).toBe(false);
    expect(parseAutomationConfig({ cleanup: { enabled: true } }).cleanup).toMatchObject({
      dryRun: true,
      action: 'suspend',
      neverSignedInDays: 30,
    });
  });
});
