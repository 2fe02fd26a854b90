import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';

/** Unit and integration tests, all inside workerd, against the in-process Logto emulator. */
export default defineConfig({
  plugins: [
    cloudflareTest(async () => ({
      wrangler: { configPath: './wrangler.toml' },
      // The production factories with injectable fetch/clock (see the file); Workflow instances run this module too.
      main: './test/worker-entry.ts',
      miniflare: {
        // Tests never read .dev.vars: every value they need is set here or by the test itself. The Logto values
        // match the emulator that test/pipeline.ts starts at this endpoint.
        bindings: {
          LOGTO_ENDPOINT: 'http://localhost:3301',
          LOGTO_M2M_APP_ID: 'm2m-app',
          LOGTO_M2M_APP_SECRET: 'm2m-secret',
          LOGTO_WEBHOOK_SIGNING_KEY: 'test-signing-key-current',
          STRIPE_WEBHOOK_SECRET: 'whsec_test_stripe_old,whsec_test_stripe',
          GITHUB_WEBHOOK_SECRET: 'test-github-secret',
          STANDARD_WEBHOOK_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
          SIGNUP_ROLE_NAMES: 'member,beta-tester',
          // Short, so the emulator's injected delays become client timeouts quickly.
          LOGTO_API_TIMEOUT_MS: '400',
          LOGTO_E2E: '',
          TEST_MIGRATIONS: await readD1Migrations('./migrations'),
        },
      },
    })),
  ],
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['./test/apply-migrations.ts'],
    testTimeout: 20_000,
  },
});
