import { describe, expect, it } from 'vitest';
import { parsePipelineConfig } from '../../src/config/pipeline';

const base = { LOGTO_WEBHOOK_SIGNING_KEY: 'current-key' };

describe('pipeline configuration', () => {
  it('defaults: one key, 15-minute window, 5 minutes of future skew, no sign-up roles, admin off', () => {
    expect(parsePipelineConfig(base)).toEqual({
      ok: true,
      config: {
        signingKeys: ['current-key'],
        maxAgeMs: 900_000,
        maxFutureMs: 300_000,
        signupRoleNames: [],
        callbacks: { stripe: [], github: [], 'standard-webhooks': [] },
      },
    });
  });

  it('rotation key second, role and app lists trimmed, a short window caps the future skew', () => {
    const result = parsePipelineConfig({
      ...base,
      LOGTO_WEBHOOK_SIGNING_KEY_PREVIOUS: ' old-key ',
      WEBHOOK_MAX_AGE_SECONDS: '60',
      SIGNUP_ROLE_NAMES: ' member , beta-tester,',
      ADMIN_API_RESOURCE: 'https://automations.example.com/admin',
      ADMIN_APP_IDS: 'ops-a, ops-b',
    });
    expect(result).toEqual({
      ok: true,
      config: {
        signingKeys: ['current-key', 'old-key'],
        maxAgeMs: 60_000,
        maxFutureMs: 60_000,
        signupRoleNames: ['member', 'beta-tester'],
        admin: { resource: 'https://automations.example.com/admin', appIds: ['ops-a', 'ops-b'] },
        callbacks: { stripe: [], github: [], 'standard-webhooks': [] },
      },
    });
  });

  const bad: [Record<string, string>, string][] = [
    [{}, 'LOGTO_WEBHOOK_SIGNING_KEY'],
    [{ ...base, WEBHOOK_MAX_AGE_SECONDS: 'abc' }, 'WEBHOOK_MAX_AGE_SECONDS'],
    [{ ...base, WEBHOOK_MAX_AGE_SECONDS: '-60' }, 'WEBHOOK_MAX_AGE_SECONDS'],
    [{ ...base, WEBHOOK_MAX_AGE_SECONDS: '10' }, 'WEBHOOK_MAX_AGE_SECONDS'],
    [{ ...base, WEBHOOK_MAX_AGE_SECONDS: '86401' }, 'WEBHOOK_MAX_AGE_SECONDS'],
    [{ ...base, SIGNUP_ROLE_NAMES: 'x'.repeat(129) }, 'SIGNUP_ROLE_NAMES'],
    [{ ...base, ADMIN_API_RESOURCE: 'not a url' }, 'ADMIN_API_RESOURCE'],
    [{ ...base, ADMIN_API_RESOURCE: 'https://automations.example.com/admin' }, 'ADMIN_APP_IDS'],
    [{ ...base, STANDARD_WEBHOOK_SECRET: 'whsec_not base64!' }, 'STANDARD_WEBHOOK_SECRET'],
  ];
  for (const [env, variable] of bad) {
    it(`rejects ${JSON.stringify(env).slice(0, 80)} naming ${variable}, without the value`, () => {
      const result = parsePipelineConfig(env);
      expect(result).toMatchObject({ ok: false, variable });
      expect(JSON.stringify(result)).not.toContain('current-key');
    });
  }
});
