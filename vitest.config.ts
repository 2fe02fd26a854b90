import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';

/** Unit and integration tests, all inside workerd, against the in-process Logto emulator. */
export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: './wrangler.toml' },
      miniflare: {
        // Tests never read .dev.vars: every value they need is set here or by the test itself.
        bindings: { LOGTO_M2M_APP_SECRET: 'test-secret', LOGTO_E2E: '' },
      },
    }),
  ],
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
  },
});
