import { env } from 'cloudflare:workers';
import { parseLogtoConfig } from '../../src/config';
import { createTokenBroker, createTokenCache } from '../../src/kv-token-cache';
import { createLogtoClient } from '../../src/logto-client';
import { setupLogto } from '../helpers';

const vars = env as unknown as Record<string, string | undefined>;

/** `npm run test:e2e` sets LOGTO_E2E=1; the LOGTO_E2E_* variables then name a real Logto. */
export const E2E_MODE = vars.LOGTO_E2E === '1';
export const E2E_CONFIGURED = Boolean(
  vars.LOGTO_E2E_ENDPOINT && vars.LOGTO_E2E_APP_ID && vars.LOGTO_E2E_APP_SECRET,
);
export const SKIP_REASON =
  'LOGTO_E2E_ENDPOINT, LOGTO_E2E_APP_ID and LOGTO_E2E_APP_SECRET are not all set: skipping the real-Logto contract run';

/**
 * The Logto the contract tests talk to: a real one in e2e mode, otherwise the emulator in-process. The tests are
 * the same either way; they create uniquely named entities and delete what they can afterwards.
 */
export async function contractTarget() {
  if (E2E_MODE) {
    const parsed = parseLogtoConfig({
      LOGTO_ENDPOINT: vars.LOGTO_E2E_ENDPOINT,
      LOGTO_TENANT_ID: vars.LOGTO_E2E_TENANT_ID,
      LOGTO_M2M_APP_ID: vars.LOGTO_E2E_APP_ID,
      LOGTO_M2M_APP_SECRET: vars.LOGTO_E2E_APP_SECRET,
      LOGTO_MANAGEMENT_API_RESOURCE: vars.LOGTO_E2E_RESOURCE,
    });
    if (!parsed.ok) throw new Error(`e2e configuration: ${parsed.variable} ${parsed.reason}`);
    const { config } = parsed;
    const fetcher: typeof fetch = (input, init) => fetch(input, init);
    const broker = createTokenBroker({ ...config, kv: env.TOKEN_CACHE, fetch: fetcher });
    const tokens = createTokenCache({ ...config, kv: env.TOKEN_CACHE, fetch: fetcher, broker });
    return {
      kind: 'real' as const,
      emulator: undefined,
      logto: createLogtoClient({ endpoint: config.endpoint, tokens }),
    };
  }
  const { emulator, logto } = await setupLogto();
  return { kind: 'emulator' as const, emulator, logto };
}

/** A name no earlier run used. */
export const uniqueName = (prefix: string) =>
  `${prefix}-${Date.now().toString(36)}-${crypto.randomUUID().slice(0, 6)}`;
