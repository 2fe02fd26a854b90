import { describe, expect, it } from 'vitest';
import { parseLogtoConfig } from '../../src/config';

const base = { LOGTO_M2M_APP_ID: 'app123', LOGTO_M2M_APP_SECRET: 's3cr3t-value' };

describe('configuration', () => {
  it('Logto Cloud: tenant ID → endpoint, issuer and the tenant’s Management API indicator', () => {
    const result = parseLogtoConfig({ ...base, LOGTO_TENANT_ID: 'abc123' });
    expect(result).toMatchObject({
      ok: true,
      config: {
        mode: 'cloud',
        endpoint: 'https://abc123.logto.app',
        issuer: 'https://abc123.logto.app/oidc',
        resource: 'https://abc123.logto.app/api',
        algorithms: ['ES384'],
        tokenExpirySkewSeconds: 60,
        rateBudget: { requests: 200, windowMs: 10_000 },
      },
    });
  });

  it('self-hosted: any endpoint, indicator always https://default.logto.app/api', () => {
    const result = parseLogtoConfig({ ...base, LOGTO_ENDPOINT: 'https://auth.example.com/' });
    expect(result).toMatchObject({
      ok: true,
      config: {
        mode: 'self-hosted',
        endpoint: 'https://auth.example.com',
        issuer: 'https://auth.example.com/oidc',
        resource: 'https://default.logto.app/api',
      },
    });
  });

  it('Cloud behind a custom domain: calls go to the domain, the indicator stays the tenant’s', () => {
    const result = parseLogtoConfig({
      ...base,
      LOGTO_TENANT_ID: 'abc123',
      LOGTO_ENDPOINT: 'https://login.example.com',
    });
    expect(result).toMatchObject({
      ok: true,
      config: {
        mode: 'cloud',
        issuer: 'https://login.example.com/oidc',
        resource: 'https://abc123.logto.app/api',
      },
    });
  });

  it('the resource and the other tunables can be overridden', () => {
    const result = parseLogtoConfig({
      ...base,
      LOGTO_ENDPOINT: 'http://localhost:3001',
      LOGTO_MANAGEMENT_API_RESOURCE: 'https://custom.example/api',
      LOGTO_JWT_ALGORITHMS: 'ES384, RS256',
      TOKEN_EXPIRY_SKEW_SECONDS: '120',
      LOGTO_API_TIMEOUT_MS: '5000',
      LOGTO_RATE_BUDGET: '50/5s',
    });
    expect(result).toMatchObject({
      ok: true,
      config: {
        resource: 'https://custom.example/api',
        algorithms: ['ES384', 'RS256'],
        tokenExpirySkewSeconds: 120,
        apiTimeoutMs: 5000,
        rateBudget: { requests: 50, windowMs: 5000 },
      },
    });
  });

  const bad: [string, Record<string, string>, string][] = [
    ['no Logto at all', { ...base }, 'LOGTO_TENANT_ID'],
    ['a malformed tenant', { ...base, LOGTO_TENANT_ID: 'Not A Tenant' }, 'LOGTO_TENANT_ID'],
    [
      'an endpoint with a path',
      { ...base, LOGTO_ENDPOINT: 'https://auth.example.com/oidc' },
      'LOGTO_ENDPOINT',
    ],
    ['plain http off localhost', { ...base, LOGTO_ENDPOINT: 'http://auth.example.com' }, 'LOGTO_ENDPOINT'],
    ['no app ID', { LOGTO_TENANT_ID: 'abc', LOGTO_M2M_APP_SECRET: 'x' }, 'LOGTO_M2M_APP_ID'],
    ['no secret', { LOGTO_TENANT_ID: 'abc', LOGTO_M2M_APP_ID: 'x' }, 'LOGTO_M2M_APP_SECRET'],
    [
      'an unknown algorithm',
      { ...base, LOGTO_TENANT_ID: 'abc', LOGTO_JWT_ALGORITHMS: 'HS256' },
      'LOGTO_JWT_ALGORITHMS',
    ],
    [
      'a negative skew',
      { ...base, LOGTO_TENANT_ID: 'abc', TOKEN_EXPIRY_SKEW_SECONDS: '-5' },
      'TOKEN_EXPIRY_SKEW_SECONDS',
    ],
    [
      'a bad rate budget',
      { ...base, LOGTO_TENANT_ID: 'abc', LOGTO_RATE_BUDGET: 'fast' },
      'LOGTO_RATE_BUDGET',
    ],
    [
      'a relative resource',
      { ...base, LOGTO_TENANT_ID: 'abc', LOGTO_MANAGEMENT_API_RESOURCE: 'api' },
      'LOGTO_MANAGEMENT_API_RESOURCE',
    ],
  ];
  for (const [label, env, variable] of bad) {
    it(`rejects ${label}, naming ${variable} and never echoing the secret`, () => {
      const result = parseLogtoConfig(env);
      expect(result).toMatchObject({ ok: false, variable });
      expect(JSON.stringify(result)).not.toContain('s3cr3t-value');
    });
  }
});
