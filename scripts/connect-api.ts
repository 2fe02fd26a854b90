/**
 * What `npm run connect` (scripts/connect-cli.ts) says to Logto and to the Worker: a Management API token with
 * client_credentials, the hook routes (logto-reference §1.5), and a signed probe that asks the Worker whether it
 * accepts a signing key. Only `fetch` and WebCrypto, so it runs in Node and inside workerd alike.
 */
import type { LogtoConfig } from '../src/config';

/** A failure the CLI reports as one line (never with a secret, a token or a header in it). */
export class ConnectError extends Error {}

/** A Logto webhook as `GET /api/hooks` returns it (OpenAPI `ListHooks`). */
export interface Hook {
  id: string;
  name: string;
  events: string[];
  event: string | null;
  config: { url: string; headers?: Record<string, string>; retries?: number };
  signingKey: string;
  enabled: boolean;
}

const USER_AGENT = 'logto-automations-connect';
/** Shown in Logto Console's webhook list. */
const HOOK_NAME = 'logto-automations';

type Json = Record<string, unknown>;

async function reach(fetcher: typeof fetch, url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetcher(url, init);
  } catch (error) {
    throw new ConnectError(`could not reach ${new URL(url).origin} (${(error as Error).message})`);
  }
}

/** A Management API token: Basic auth, the Management API indicator as `resource`, `scope=all` (§2). */
async function obtainToken(fetcher: typeof fetch, config: LogtoConfig): Promise<string> {
  const basic = btoa(`${encodeURIComponent(config.appId)}:${encodeURIComponent(config.appSecret)}`);
  const response = await reach(fetcher, `${config.endpoint}/oidc/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${basic}`,
      'content-type': 'application/x-www-form-urlencoded',
      'user-agent': USER_AGENT,
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource: config.resource, scope: 'all' }),
  });
  const body = (await response.json().catch(() => ({}))) as Json;
  if (response.ok && typeof body.access_token === 'string') {
    // Logto issues a token without `all` when the app lacks the role (reference §2); every call would then be 403.
    if (
      String(body.scope ?? '')
        .split(' ')
        .includes('all')
    )
      return body.access_token;
    throw new ConnectError(
      'the token has no `all` scope: give the M2M app a role with the Logto Management API `all` permission',
    );
  }
  const error = typeof body.error === 'string' ? body.error : 'no error code';
  if (error === 'invalid_client')
    throw new ConnectError(
      `Logto refused the M2M credentials (${response.status} invalid_client): check LOGTO_M2M_APP_ID and LOGTO_M2M_APP_SECRET`,
    );
  if (error === 'invalid_target') {
    throw new ConnectError(
      `Logto does not know the resource ${config.resource} (${response.status} invalid_target): Cloud uses ` +
        'https://<tenant>.logto.app/api, self-hosted https://default.logto.app/api (LOGTO_MANAGEMENT_API_RESOURCE overrides)',
    );
  }
  throw new ConnectError(`Logto refused the token request: ${response.status} ${error}`);
}

/** The hook routes of the Management API, with one token. */
export async function openLogto(fetcher: typeof fetch, config: LogtoConfig) {
  const token = await obtainToken(fetcher, config);
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await reach(fetcher, `${config.endpoint}/api${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        'user-agent': USER_AGENT,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const answer = (await response.json().catch(() => ({}))) as Json;
    if (!response.ok) {
      const code = typeof answer.code === 'string' ? ` ${answer.code}` : '';
      const message = typeof answer.message === 'string' ? `: ${answer.message}` : '';
      throw new ConnectError(`Logto answered ${response.status}${code} to ${method} /api${path}${message}`);
    }
    return answer as T;
  };
  return {
    /** Every webhook: without `page`/`page_size` Logto returns them all (L `routes/hook.ts`, pagination optional). */
    listHooks: () => call<Hook[]>('GET', '/hooks'),
    createHook: (input: { events: string[]; url: string; enabled: boolean }) =>
      call<Hook>('POST', '/hooks', {
        name: HOOK_NAME,
        events: input.events,
        config: { url: input.url },
        enabled: input.enabled,
      }),
    /** Replaces the fields given (jsonb fields whole, §1.5). */
    updateHook: (id: string, patch: Partial<Pick<Hook, 'events' | 'config' | 'enabled'>>) =>
      call<Hook>('PATCH', `/hooks/${encodeURIComponent(id)}`, patch),
    /** Logto generates the new key and signs with it from the next delivery on. */
    rotateKey: (id: string) => call<Hook>('PATCH', `/hooks/${encodeURIComponent(id)}/signing-key`),
    /** Failed delivery attempts in the hook's log since `sinceMs` (first 100; reference §0.1). */
    async failedDeliveriesSince(id: string, sinceMs: number): Promise<number> {
      const query = new URLSearchParams({ start_time: String(sinceMs), page_size: '100' });
      const entries = await call<{ payload?: { result?: string } }[]>(
        'GET',
        `/hooks/${encodeURIComponent(id)}/recent-logs?${query}`,
      );
      return entries.filter((entry) => entry.payload?.result === 'Error').length;
    },
  };
}

export type ConnectApi = Awaited<ReturnType<typeof openLogto>>;

async function sign(body: string, key: string): Promise<string> {
  const encoder = new TextEncoder();
  const hmac = await crypto.subtle.importKey(
    'raw',
    encoder.encode(key),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', hmac, encoder.encode(body)));
  return [...mac].map((byte) => byte.toString(16).padStart(2, '0')).join('');
}

export type Verdict = { status: 'accepted' | 'refused' } | { status: 'unknown'; detail: string };

/**
 * Asks the Worker whether it accepts `key` without reading a secret back (Cloudflare cannot): a delivery signed with
 * `key` whose body is no event. The Worker checks the signature before the body, so it answers 400
 * (`invalid_payload`: accepted, nothing recorded) or 401 `invalid_signature` (refused); a Worker with no key set
 * answers 503 naming LOGTO_WEBHOOK_SIGNING_KEY (refused too).
 */
export async function workerProbe(fetcher: typeof fetch, hookUrl: string, key: string): Promise<Verdict> {
  const body = JSON.stringify({ probe: 'npm run connect: is this signing key accepted?' });
  let response: Response;
  try {
    response = await fetcher(hookUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': USER_AGENT,
        'logto-signature-sha-256': await sign(body, key),
      },
      body,
    });
  } catch (error) {
    return { status: 'unknown', detail: `could not be reached (${(error as Error).message})` };
  }
  const answer = (await response.json().catch(() => ({}))) as Json;
  if (response.status === 400 && answer.error === 'invalid_payload') return { status: 'accepted' };
  if (response.status === 401 && answer.error === 'invalid_signature') return { status: 'refused' };
  if (response.status === 503 && answer.variable === 'LOGTO_WEBHOOK_SIGNING_KEY')
    return { status: 'refused' };
  const error = typeof answer.error === 'string' ? ` ${answer.error}` : '';
  return { status: 'unknown', detail: `answered ${response.status}${error}` };
}
