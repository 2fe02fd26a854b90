/**
 * Every way an event reaches the Worker, one file each: how it is verified and keyed, how a journal row validates
 * into an automation input, and the names `defineAutomation()` handlers subscribe with.
 *
 * - logto-delivered.ts: `POST /webhooks/logto` (signature, freshness); logto-recovered.ts: Logto's hook log;
 *   logto.ts: what both share (validation, canonical key, `self`/`ignored`).
 * - stripe.ts, github.ts, standard-webhooks.ts: `POST /callbacks/<name>`.
 * - sweep.ts: the reconciliation sweep and the cleanup.
 *
 * Adding a source: its file, its input in `AutomationInput` (src/automations/types.ts), and one line below.
 */
import type { AutomationInput, AutomationSource } from '../automations';
import { githubSource } from './github';
import { logtoSource } from './logto';
import { standardWebhooksSource } from './standard-webhooks';
import { stripeSource } from './stripe';
import { cleanupSource, reconcileSource } from './sweep';
import type { CallbackSource, HandlerView, InputResult, Source, SourceRow } from './types';

export { isOwnEvent, logtoEventRecord, type Planner } from './logto';
export { decodeJson, logtoDeliveryRecord, type Refusal } from './logto-delivered';
export { type HookLogEntry, recoveredRecord } from './logto-recovered';
export type {
  CallbackSource,
  HandlerView,
  HeaderReader,
  Identified,
  InputResult,
  Source,
  SourceRow,
} from './types';

const SOURCES: { [S in AutomationSource]: Source<S> } = {
  logto: logtoSource,
  reconcile: reconcileSource,
  cleanup: cleanupSource,
  stripe: stripeSource,
  github: githubSource,
  'standard-webhooks': standardWebhooksSource,
};

/** Sources that arrive at `POST /callbacks/<name>`. */
const CALLBACKS = { stripe: stripeSource, github: githubSource, 'standard-webhooks': standardWebhooksSource };
export type CallbackProvider = keyof typeof CALLBACKS;

/** The callback source named in the route, or undefined. */
export function callbackSource(name: string): CallbackSource | undefined {
  return Object.hasOwn(CALLBACKS, name) ? (CALLBACKS[name as CallbackProvider] as CallbackSource) : undefined;
}

/**
 * Rebuilds a run's input from its journal row (`source`, `event_type`, `raw_body`). The raw body was verified and
 * validated when it was recorded; this parses it again so a replay runs on exactly what was received.
 */
export function inputOf(row: SourceRow): InputResult {
  const source = Object.hasOwn(SOURCES, row.source) ? SOURCES[row.source as AutomationSource] : undefined;
  if (!source) return { ok: false, reason: `unknown source ${row.source}` };
  let json: unknown;
  try {
    json = JSON.parse(row.rawBody);
  } catch {
    return { ok: false, reason: 'raw body is not JSON' };
  }
  return source.inputOf(row, json);
}

/** What a `defineAutomation()` handler subscribes to and receives for this input (undefined: never handed to one). */
export function handlerViewOf(input: AutomationInput): HandlerView | undefined {
  return (SOURCES[input.source] as Source).handlerView(input as never);
}
