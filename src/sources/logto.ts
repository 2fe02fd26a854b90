import type { AutomationInput } from '../automations';
import { type LogtoEvent, logtoEventKey, parseLogtoEvent, subjectOf } from '../events';
import type { ArrivedVia, NewEvent } from '../journal';
import { PROJECT_USER_AGENT } from '../logto-client';
import type { Source } from './types';

/** A journaled Logto event, however it arrived (logto-delivered.ts, logto-recovered.ts). Handlers subscribe to its name. */
export const logtoSource: Source<'logto'> = {
  name: 'logto',
  inputOf(_row, json) {
    const parsed = parseLogtoEvent(json);
    return parsed.ok ? { ok: true, input: { source: 'logto', event: parsed.event } } : parsed;
  },
  handlerView: (input) => ({ names: [input.event.event], event: input.event }),
};

/**
 * Is the payload's User-Agent (interaction and API events carry the caller's) this project's own: does the event echo
 * one of our Management API writes?
 */
export const isOwnEvent = (event: LogtoEvent) =>
  typeof event.userAgent === 'string' && event.userAgent.startsWith(PROJECT_USER_AGENT);

/** The automations that act on an input (src/pipeline `planFor`); only whether there are any matters here. */
export type Planner = (input: AutomationInput) => readonly unknown[];

/**
 * A verified, validated Logto event as the journal records it, however it arrived: keyed by its canonical JSON (a
 * live delivery and the same payload read back from Logto's hook log get the same key), `self` when it echoes this
 * Worker's own write, `ignored` when no automation wants it, else `received`.
 */
export async function logtoEventRecord(
  event: LogtoEvent,
  json: unknown,
  rawBody: string,
  planner: Planner,
  arrivedVia: ArrivedVia = 'delivered',
): Promise<NewEvent> {
  const own = isOwnEvent(event);
  const plan = own || event.family === 'unknown' ? [] : planner({ source: 'logto', event });
  const wanted = plan.length > 0;
  const reason = own
    ? { code: 'own_write', message: 'caused by this Worker’s own Management API call' }
    : event.family === 'unknown'
      ? { code: 'unknown_event', message: `unknown event name ${event.event.slice(0, 100)}` }
      : wanted
        ? undefined
        : { code: 'no_automation', message: 'no automation acts on this event' };
  return {
    eventKey: await logtoEventKey(json),
    source: 'logto',
    eventType: event.event.slice(0, 200),
    subject: subjectOf(event) ?? null,
    status: own ? 'self' : wanted ? 'received' : 'ignored',
    rawBody,
    reason,
    arrivedVia,
  };
}
