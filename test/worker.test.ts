import { env, exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { createLogtoEmulator, DEFAULT_EMULATOR_APP } from '../emulator';
import { createApp } from '../src/handlers';
import { testRuntime } from './worker-entry';

let port = 40_000;

const SECRET = DEFAULT_EMULATOR_APP.secret;

async function workerAgainstEmulator(vars: Record<string, string> = {}, kv: KVNamespace = env.TOKEN_CACHE) {
  // Plain http is accepted for loopback only; a distinct port keeps each test's KV cache key apart.
  const emulator = await createLogtoEmulator({ endpoint: `http://127.0.0.1:${++port}` });
  // The isolate's JWKS reads and the governor object's token requests both reach this emulator.
  testRuntime.fetch = emulator.fetch;
  const app = createApp({ fetch: emulator.fetch });
  const workerEnv = {
    ...env,
    LOGTO_ENDPOINT: emulator.endpoint,
    LOGTO_M2M_APP_ID: DEFAULT_EMULATOR_APP.id,
    LOGTO_M2M_APP_SECRET: SECRET,
    TOKEN_CACHE: kv,
    ...vars,
  };
  return {
    emulator,
    // A fresh env object per call, as the runtime may hand out; the configuration is what counts.
    call: (path: string) => app.fetch(new Request(`http://worker.test${path}`), { ...workerEnv }),
  };
}

describe('worker routes', () => {
  it('/healthz answers 200 without configuration', async () => {
    const response = await exports.default.fetch('http://worker.test/healthz');
    expect(response.status).toBe(200);
  });

  it('/readyz with no Logto configured → 503 naming the missing variable', async () => {
    const unconfigured = { ...env, LOGTO_ENDPOINT: '', LOGTO_TENANT_ID: '' };
    const response = await createApp().fetch(new Request('http://worker.test/readyz'), unconfigured);
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({
      status: 'not_ready',
      error: 'configuration_error',
      variable: 'LOGTO_TENANT_ID',
    });
  });

  it('/readyz gets a verified token from Logto and reports the target, no secret', async () => {
    const { call, emulator } = await workerAgainstEmulator();
    const response = await call('/readyz');
    const text = await response.text();
    expect(response.status).toBe(200);
    expect(JSON.parse(text)).toEqual({
      status: 'ready',
      logto: { mode: 'self-hosted', endpoint: emulator.endpoint, resource: 'https://default.logto.app/api' },
    });
    expect(text).not.toContain(SECRET);
    expect(text).not.toMatch(/eyJ/);
  });

  it('keeps the isolate’s token in memory across requests: no token request and no KV read after the first', async () => {
    let kvReads = 0;
    const kv = env.TOKEN_CACHE;
    const countingKv = {
      get: (...args: Parameters<KVNamespace['get']>) => {
        kvReads++;
        return kv.get(...args);
      },
      put: kv.put.bind(kv),
      delete: kv.delete.bind(kv),
      list: kv.list.bind(kv),
    } as unknown as KVNamespace;
    const { call, emulator } = await workerAgainstEmulator({}, countingKv);
    expect((await call('/readyz')).status).toBe(200);
    const readsAfterFirst = kvReads;
    for (let i = 0; i < 4; i++) expect((await call('/readyz')).status).toBe(200);
    expect(kvReads).toBe(readsAfterFirst);
    expect(emulator.faults.count('POST /oidc/token')).toBe(1);
  });

  it('/readyz with a wrong secret → 503 invalid_client, no secret in the answer', async () => {
    const { call } = await workerAgainstEmulator({ LOGTO_M2M_APP_SECRET: 'bad-secret-xyz' });
    const response = await call('/readyz');
    const text = await response.text();
    expect(response.status).toBe(503);
    expect(JSON.parse(text)).toMatchObject({
      status: 'not_ready',
      error: 'token_unavailable',
      oauthError: 'invalid_client',
    });
    expect(text).not.toContain('bad-secret-xyz');
  });

  it('unknown routes → 404 JSON', async () => {
    const response = await exports.default.fetch('http://worker.test/nope');
    expect(response.status).toBe(404);
  });
});
