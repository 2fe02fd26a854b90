import { generateId } from './http';
import type { EmulatedUser } from './store';

/** A webhook as configured in Logto Console: URL, signing key and the events it subscribes to. */
export interface EmulatedHook {
  id: string;
  url: string;
  signingKey: string;
  /** Subscribed event names; empty = every event. */
  events: string[];
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

/** The headers a real Logto 1.42 sends, in its order (logto-reference.md §0); content-length is added by fetch. */
async function signedHeaders(body: string, signingKey: string): Promise<Record<string, string>> {
  return {
    'logto-signature-sha-256': await signLogtoBody(body, signingKey),
    'user-agent': 'Logto (https://logto.io/)',
    'content-type': 'application/json',
    accept: '*/*',
    'accept-language': '*',
    'sec-fetch-mode': 'cors',
    'accept-encoding': 'gzip, deflate',
  };
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
export function createWebhookSender(options: { deliver?: typeof fetch }) {
  const hooks: EmulatedHook[] = [];
  const deliveries: Delivery[] = [];
  const inFlight = new Set<Promise<void>>();
  let deliver = options.deliver ?? ((input, init) => fetch(input, init));
  let drop: (event: string, index: number) => boolean = () => false;
  let sent = 0;

  async function send(hook: EmulatedHook, payload: Record<string, unknown>) {
    const event = String(payload.event);
    const body = JSON.stringify({ ...payload, hookId: hook.id });
    if (drop(event, sent++)) {
      deliveries.push({ hookId: hook.id, url: hook.url, event, outcome: 'dropped', body });
      return;
    }
    let outcome: Delivery['outcome'];
    try {
      const response = await deliver(hook.url, {
        method: 'POST',
        headers: await signedHeaders(body, hook.signingKey),
        body,
      });
      await response.body?.cancel();
      outcome = response.status;
    } catch {
      outcome = 'error';
    }
    deliveries.push({ hookId: hook.id, url: hook.url, event, outcome, body });
  }

  return {
    deliveries,
    add(hook: Partial<EmulatedHook> & Pick<EmulatedHook, 'url' | 'signingKey'>): EmulatedHook {
      const full = { id: hook.id ?? generateId(21), events: hook.events ?? [], ...hook };
      hooks.push(full);
      return full;
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
          for (const hook of hooks) {
            if (hook.events.length === 0 || hook.events.includes(String(payload.event)))
              await send(hook, payload);
          }
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
