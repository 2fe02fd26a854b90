import { describe, expect, it } from 'vitest';
import { parseLogtoConfig } from '../../src/config';
import { parseLogtoEvent } from '../../src/events';
import { AutomationConfigError, parseAutomationConfig } from '../../src/recipes/config';
import { type StripeOptions, stripe } from '../../src/recipes/stripe';

/** The messages of an invalid automations.config.ts, one per line ('valid' when it parses). */
const messagesOf = (input: unknown): string[] | 'valid' => {
  try {
    parseAutomationConfig(typeof input === 'function' ? input() : input);
    return 'valid';
  } catch (error) {
    if (!(error instanceof AutomationConfigError)) throw error;
    return error.issues.map((issue) => `${issue.path || '(root)'}: ${issue.message}`);
  }
};

const rule = { name: 'r', roles: ['a'], when: { connectors: ['github'] } };
/** A configuration with the imported Stripe recipe (its options are checked when `stripe()` is called). */
const withStripe = (options: unknown) => () => ({ stripe: stripe(options as StripeOptions) });

describe('automations.config.ts messages (the rules the zod schema had, on valibot)', () => {
  it('an array is never an object or a record', () => {
    expect(messagesOf({ reconcile: [] })).toEqual(['reconcile: expected object']);
    expect(messagesOf(withStripe({ prices: [] }))).toEqual(['stripe.prices: expected record']);
    expect(messagesOf([])).toEqual(['(root): expected object']);
  });

  it('every unknown field of an object is one issue on the object, and its own checks still run', () => {
    expect(messagesOf({ personalOrganisation: {}, stamp: {} })).toEqual([
      '(root): unknown fields personalOrganisation, stamp',
    ]);
    expect(messagesOf({ rolesByRule: [{ ...rule, when: { emailDomain: ['example.com'] } }] })).toEqual([
      'rolesByRule.0.when: unknown field emailDomain',
      'rolesByRule.0.when: give at least one condition (emailDomains, connectors, applications or test)',
    ]);
  });

  it('a missing field says what it expects; types, lengths and ranges read as before', () => {
    expect(messagesOf({ organizationsByRule: [{ name: 'o', when: { test: () => true } }] })).toEqual([
      'organizationsByRule.0.organizationId: expected string',
    ]);
    expect(messagesOf(withStripe({}))).toEqual(['stripe.prices: expected record']);
    expect(
      messagesOf({
        brakes: { maxUsers: 1.5, maxShare: 0 },
        cleanup: { action: 'ban', neverSignedInDays: 0 },
        personalOrganization: { name: [], organizationRoles: [' '] },
      }),
    ).toEqual([
      'personalOrganization.name: must have at least 1 item',
      'personalOrganization.organizationRoles.0: must have at least 1 character',
      'brakes.maxUsers: expected int',
      'brakes.maxShare: must be more than 0',
      'cleanup.action: must be one of "suspend", "delete"',
      'cleanup.neverSignedInDays: must be at least 1',
    ]);
    expect(messagesOf({ brakes: { maxUsers: 2 ** 60, maxShare: Number.POSITIVE_INFINITY } })).toEqual([
      'brakes.maxUsers: must be at most 9007199254740991',
      'brakes.maxUsers: must be at most 100000',
      'brakes.maxShare: expected number',
    ]);
  });

  it('a record key that fails is invalid and its value is not judged', () => {
    expect(messagesOf(withStripe({ prices: { '': { plan: '' }, pro: { plan: 'p', roles: [''] } } }))).toEqual(
      ['stripe.prices.: is invalid', 'stripe.prices.pro.roles.0: must have at least 1 character'],
    );
  });

  it('a value of the wrong kind stops the checks of what holds it; a failed check does not', () => {
    expect(messagesOf({ rolesByRule: [{ ...rule, when: { test: 1 } }, rule] })).toEqual([
      'rolesByRule.0.when.test: must be a function (user, input) => boolean',
    ]);
    expect(messagesOf({ rolesByRule: [{ ...rule, roles: [''] }, rule] })).toEqual([
      'rolesByRule.0.roles.0: must have at least 1 character',
      'rolesByRule: rule names must be unique',
    ]);
  });

  it('defaults are filled in, values are trimmed and lower-cased where the schema says so', () => {
    const config = parseAutomationConfig({
      rolesByRule: [{ name: 'r', roles: [' admin '], when: { emailDomains: [' Example.COM '] } }],
      brakes: { maxShare: null },
    });
    expect(config.rolesByRule[0]).toMatchObject({
      roles: ['admin'],
      when: { emailDomains: ['example.com'] },
      enforce: false,
    });
    expect(config.brakes).toEqual({ maxUsers: 50, maxShare: null });
    expect(config.reconcile.filterEveryHours).toBe(24);
  });
});

describe('webhook payload reasons', () => {
  const envelope = { event: 'PostRegister', hookId: 'h' };
  it('createdAt is an ISO time with seconds and an offset on a real calendar day', () => {
    for (const createdAt of [
      '2024-02-29T10:00:00Z',
      '2000-02-29T00:00:00.123456789+02:00',
      '2026-12-31T23:59:59-05:30',
    ])
      expect(parseLogtoEvent({ ...envelope, createdAt }).ok, createdAt).toBe(true);
    for (const createdAt of [
      '2023-02-29T10:00:00Z',
      '1900-02-29T00:00:00Z',
      '2024-04-31T00:00:00Z',
      '2024-13-01T00:00:00Z',
      '2024-01-01T24:00:00Z',
      '2024-01-01 00:00:00Z',
      '2024-01-01T00:00Z',
      '2024-01-01T00:00:00',
      '2024-01-01T00:00:00+2:00',
    ])
      expect(parseLogtoEvent({ ...envelope, createdAt }), createdAt).toEqual({
        ok: false,
        reason: 'createdAt: Invalid input',
      });
  });

  it('the first bad field is named; an array is not an object', () => {
    const createdAt = '2024-01-01T00:00:00Z';
    expect(parseLogtoEvent({ ...envelope, createdAt, user: [] })).toEqual({
      ok: false,
      reason: 'user: Invalid input',
    });
    expect(parseLogtoEvent({ ...envelope, createdAt, user: {} })).toEqual({
      ok: false,
      reason: 'user.id: Invalid input',
    });
    expect(
      parseLogtoEvent({ event: 'User.Created', createdAt, hookId: 'h', data: { id: 'u', customData: [] } }),
    ).toEqual({ ok: false, reason: 'data.customData: Invalid input' });
  });
});

describe('LOGTO_ENDPOINT', () => {
  it('a value that is not a URL is a configuration error, not an exception', () => {
    const result = parseLogtoConfig({
      LOGTO_ENDPOINT: 'not a url',
      LOGTO_M2M_APP_ID: 'app',
      LOGTO_M2M_APP_SECRET: 'secret',
    });
    expect(result).toMatchObject({ ok: false, variable: 'LOGTO_ENDPOINT' });
  });
});
