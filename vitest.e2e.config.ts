import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';

/**
 * `npm run test:e2e`: the Management API contract tests against a real Logto named by LOGTO_E2E_ENDPOINT,
 * LOGTO_E2E_APP_ID and LOGTO_E2E_APP_SECRET (optional LOGTO_E2E_TENANT_ID for Cloud, LOGTO_E2E_RESOURCE).
 * Without them the run is skipped with a message.
 */
const e2eVars = Object.fromEntries(
  [
    'LOGTO_E2E_ENDPOINT',
    'LOGTO_E2E_APP_ID',
    'LOGTO_E2E_APP_SECRET',
    'LOGTO_E2E_TENANT_ID',
    'LOGTO_E2E_RESOURCE',
  ].map((name) => [name, process.env[name] ?? '']),
);
if (!e2eVars.LOGTO_E2E_ENDPOINT || !e2eVars.LOGTO_E2E_APP_ID || !e2eVars.LOGTO_E2E_APP_SECRET) {
  console.warn(
    'test:e2e: LOGTO_E2E_ENDPOINT, LOGTO_E2E_APP_ID and LOGTO_E2E_APP_SECRET are not all set; skipping.',
  );
}

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: './wrangler.toml' },
      miniflare: { bindings: { ...e2eVars, LOGTO_E2E: '1' } },
    }),
  ],
  test: {
    include: ['test/contract/**/*.test.ts'],
    testTimeout: 60_000,
    passWithNoTests: false,
  },
});
