import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The soak test is long (the rate budget alone needs ~90 s for its calls) but mostly waits: start it first, so the
 * other files run beside it on the second core instead of after it.
 */
class SoakFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]) {
    const sorted = await super.sort(files);
    const soak = (file: TestSpecification) => file.moduleId.endsWith('soak.test.ts');
    return [...sorted.filter(soak), ...sorted.filter((file) => !soak(file))];
  }
}

/**
 * Two projects:
 * - `unit`: pure logic (governor arithmetic, claim policy, planner, backoff, configuration, payload schemas,
 *   signatures) in plain Node — milliseconds, no runtime to start.
 * - `workers`: everything where bindings matter, inside workerd, against the in-process Logto emulator.
 */
export default defineConfig({
  test: {
    sequence: { sequencer: SoakFirst },
    // Vitest's default on a 2-core machine is one worker: the soak (which mostly waits) would hold up every file.
    maxWorkers: 3,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          // The console in Debian's chromium against `npm run dev` (wrangler dev + the emulator).
          name: 'browser',
          include: ['test/browser/**/*.test.mjs'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        plugins: [
          cloudflareTest(async () => ({
            wrangler: { configPath: './wrangler.toml' },
            // The production factories with injectable fetch/clock (see the file); Workflow instances and Durable
            // Objects run this module too.
            main: './test/worker-entry.ts',
            miniflare: {
              // Tests never read .dev.vars: every value they need is set here or by the test itself. The Logto
              // values match the emulator that test/pipeline.ts starts at this endpoint.
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
          name: 'workers',
          include: ['test/**/*.test.ts'],
          exclude: ['test/unit/**', 'test/browser/**'],
          setupFiles: ['./test/apply-migrations.ts'],
          testTimeout: 20_000,
        },
      },
    ],
  },
});
