import { generateId } from './http';
import type { EmulatedUser } from './store';

/** A webhook as configured in Logto Console or through `POST /api/hooks` (L `tables/hooks.sql`). */
export interface EmulatedHook {
  id: string;
  name: string;
  url: string;
  /** `config.headers`: sent with every delivery (they may replace user-agent and content-type, not the signature). */
  headers?: Record<string, string>;
  /** `config.retries`: deprecated, stored and ignored (a released Logto never retries a POST). */
  retries?: number;
  signingKey: string;
  /**
   * Subscribed event names. Empty: the deprecated single `event` decides, as in Logto; a hook added by a test with
   * neither gets every event (the emulator's shorthand; Logto's API always stores one or the other).
   */
  events: string[];
  event: string | null;
  /** A disabled hook is not delivered to, and nothing is logged (L `libraries/hook/index.ts` filters on it). */
  enabled: boolean;
  createdAt: number;
}

/** Hook fields a test may leave out of {@link WebhookSender.add}. */
export type HookInput = Partial<EmulatedHook> & Pick<EmulatedHook, 'url' | 'signingKey'>;

const subscribed = (hook: EmulatedHook, event: string) =>
  hook.enabled &&
  (hook.events.length > 0 ? hook.events.includes(event) : hook.event === null || hook.event === event);

/**
 * One delivery attempt as Logto keeps it in its hook log (`GET /api/hooks/:id/recent-logs`, logto-reference §0.1):
 * `hookRequest.body` is the payload object as PostgreSQL jsonb returns it (keys reordered), `result` `Success` with
 * the receiver's answer, or `Error` with the error and no response.
 */
export interface HookLogEntry {
  id: string;
  key: string;
  createdAt: number;
  payload: {
    key: string;
    result: 'Success' | 'Error';
    hookId: string;
    hookRequest: { body: Record<string, unknown> };
    response?: { statusCode: number; body: unknown };
    error?: string;
  };
}

/** PostgreSQL jsonb's key order: shorter keys first, then bytewise; recursively. */
export function jsonbOrdered(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(jsonbOrdered);
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
    a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0,
  );
  return Object.fromEntries(entries.map(([key, item]) => [key, jsonbOrdered(item)]));
}

export interface Delivery {
  hookId: string;
  url: string;
  event: string;
  /** The receiver's status, `error` when the request failed, `dropped` when a test asked to lose it. */
  outcome: number | 'error' | 'dropped';
  body: string;
}

/**
 * Logto's webhook signature: lowercase hex HMAC-SHA256 of the raw body, keyed with the signing key as UTF-8
 * (L `utils/sign.ts`). Exported so tests and benchmarks sign deliveries exactly as the emulator does.
 */
export async function signLogtoBody(body: string | Uint8Array, signingKey: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(signingKey),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, bytes));
  return [...mac].map((byte) => byte.toString(16).padStart(2, '0')).join('');
}

/**
 * The headers a real Logto 1.42 sends, in its order (logto-reference.md §0); content-length is added by fetch. The
 * hook's own headers come after Logto's and the signature is set last (§1.3), so no custom header replaces it.
 */
async function signedHeaders(body: string, hook: EmulatedHook): Promise<Record<string, string>> {
  const signature = await signLogtoBody(body, hook.signingKey);
  const headers: Record<string, string> = {
    'logto-signature-sha-256': signature,
    'user-agent': 'Logto (https://logto.io/)',
    'content-type': 'application/json',
    accept: '*/*',
    'accept-language': '*',
    'sec-fetch-mode': 'cors',
    'accept-encoding': 'gzip, deflate',
  };
  for (const [name, value] of Object.entries(hook.headers ?? {})) headers[name.toLowerCase()] = value;
  headers['logto-signature-sha-256'] = signature;
  return headers;
}

/** User object as interaction payloads carry it: no `hasPassword` (that only appears on Management API changes). */
export function interactionUser(user: EmulatedUser): Omit<EmulatedUser, 'hasPassword'> {
  const { hasPassword: _omit, ...rest } = user;
  return rest;
}

/**
 * Logto's webhook sender: one attempt per hook and event, never retried (at-most-once, like a released Logto), the
 * body signed with the hook's key, `hookId` appended last. Deliveries run in the background like Logto's; tests
 * await {@link settled}. `drop` loses chosen deliveries on purpose (the receiver never sees them).
 */
export function createWebhookSender(options: { deliver?: typeof fetch; now?: () => number }) {
  const now = options.now ?? Date.now;
  const hooks: EmulatedHook[] = [];
  const deliveries: Delivery[] = [];
  const log: HookLogEntry[] = [];
  const record = (
    hook: EmulatedHook,
    event: string,
    body: string,
    outcome: { response?: { statusCode: number; body: unknown }; error?: string },
  ) => {
    const key = `TriggerHook.${event}`;
    log.push({
      id: generateId(21),
      key,
      createdAt: now(),
      payload: {
        key,
        result: outcome.response && outcome.response.statusCode < 300 ? 'Success' : 'Error',
        hookId: hook.id,
        hookRequest: { body: jsonbOrdered(JSON.parse(body)) as Record<string, unknown> },
        ...outcome,
      },
    });
  };
  const inFlight = new Set<Promise<void>>();
  let deliver = options.deliver ?? ((input, init) => fetch(input, init));
  let drop: (event: string, index: number) => boolean = () => false;
  let sent = 0;

  async function send(hook: EmulatedHook, payload: Record<string, unknown>) {
    const event = String(payload.event);
    const body = JSON.stringify({ ...payload, hookId: hook.id });
    if (drop(event, sent++)) {
      deliveries.push({ hookId: hook.id, url: hook.url, event, outcome: 'dropped', body });
      record(hook, event, body, { error: `TypeError: fetch failed (connect ECONNREFUSED ${hook.url})` });
      return;
    }
    let outcome: Delivery['outcome'];
    try {
      const response = await deliver(hook.url, {
        method: 'POST',
        headers: await signedHeaders(body, hook),
        body,
      });
      const text = await response.text();
      outcome = response.status;
      if (response.ok) {
        let answer: unknown = text;
        try {
          answer = JSON.parse(text);
        } catch {
          // not JSON: kept as text
        }
        record(hook, event, body, { response: { statusCode: response.status, body: answer } });
      } else {
        const error = `HTTPError: Request failed with status code ${response.status}: POST ${hook.url}`;
        record(hook, event, body, { error });
      }
    } catch (error) {
      outcome = 'error';
      record(hook, event, body, { error: `TypeError: ${(error as Error).message}` });
    }
    deliveries.push({ hookId: hook.id, url: hook.url, event, outcome, body });
  }

  return {
    deliveries,
    /** Every delivery attempt, as Logto's hook log keeps it (oldest first). */
    log,
    hooks,
    add(hook: HookInput): EmulatedHook {
      const full: EmulatedHook = {
        id: generateId(21),
        name: '',
        events: [],
        event: null,
        enabled: true,
        createdAt: now(),
        ...hook,
      };
      hooks.push(full);
      return full;
    },
    /** Deletes a hook (its log entries stay, as Logto keeps them in its logs table); false when unknown. */
    remove(id: string): boolean {
      const index = hooks.findIndex((hook) => hook.id === id);
      if (index >= 0) hooks.splice(index, 1);
      return index >= 0;
    },
    /** Where deliveries go (e.g. the Worker's `fetch` in-process). */
    setDeliver(fn: typeof fetch) {
      deliver = fn;
    },
    /** Loses the deliveries for which `predicate(eventName, sequenceNumber)` is true. */
    setDrop(predicate: (event: string, index: number) => boolean) {
      drop = predicate;
    },
    /**
     * Sends `payload` to every hook subscribed to its event. Sequential per call, so a sign-up's `User.Created`
     * reaches the receiver before its `PostRegister`, as with a real Logto.
     */
    emit(...payloads: Record<string, unknown>[]): Promise<void> {
      const run = (async () => {
        for (const payload of payloads) {
          for (const hook of hooks) if (subscribed(hook, String(payload.event))) await send(hook, payload);
        }
      })();
      inFlight.add(run);
      void run.finally(() => inFlight.delete(run));
      return run;
    },
    /** Resolves when every delivery started so far has been answered. */
    async settled(): Promise<void> {
      while (inFlight.size > 0) await Promise.all([...inFlight]);
    },
  };
}

export type WebhookSender = ReturnType<typeof createWebhookSender>;
