import type { AutomationInput, AutomationSource } from '../automations';
import { parseLogtoEvent } from '../events';
import type { JournalEntry } from '../journal';
import type { User } from '../logto-client';

const SOURCES: readonly AutomationSource[] = [
  'logto',
  'reconcile',
  'cleanup',
  'stripe',
  'github',
  'standard-webhooks',
];

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const isUser = (value: unknown): value is User => isObject(value) && typeof value.id === 'string';

/**
 * Rebuilds a run's input from its journal row (`source`, `event_type`, `raw_body`). The raw body was verified and
 * validated when it was recorded; this parses it again so a replay runs on exactly what was received.
 */
export function inputOf(
  entry: Pick<JournalEntry, 'source' | 'eventType' | 'rawBody' | 'externalId' | 'receivedAt'>,
): { ok: true; input: AutomationInput } | { ok: false; reason: string } {
  if (!SOURCES.includes(entry.source as AutomationSource))
    return { ok: false, reason: `unknown source ${entry.source}` };
  let json: unknown;
  try {
    json = JSON.parse(entry.rawBody);
  } catch {
    return { ok: false, reason: 'raw body is not JSON' };
  }
  switch (entry.source as AutomationSource) {
    case 'logto': {
      const parsed = parseLogtoEvent(json);
      return parsed.ok ? { ok: true, input: { source: 'logto', event: parsed.event } } : parsed;
    }
    case 'reconcile':
      if (!isObject(json) || !isUser(json.user)) return { ok: false, reason: 'reconcile body has no user' };
      if (!('signUp' in json)) return { ok: true, input: { source: 'reconcile', user: json.user } };
      return {
        ok: true,
        input: {
          source: 'reconcile',
          user: json.user,
          signUp: isObject(json.signUp)
            ? {
                applicationId:
                  typeof json.signUp.applicationId === 'string' ? json.signUp.applicationId : null,
              }
            : null,
        },
      };
    case 'cleanup':
      return isObject(json) && isUser(json.user) && (json.action === 'suspend' || json.action === 'delete')
        ? {
            ok: true,
            input: { source: 'cleanup', user: json.user, action: json.action, dryRun: json.dryRun !== false },
          }
        : { ok: false, reason: 'cleanup body has no user or action' };
    case 'stripe':
      return isObject(json) &&
        typeof json.id === 'string' &&
        typeof json.type === 'string' &&
        isObject(json.data)
        ? { ok: true, input: { source: 'stripe', event: json as never } }
        : { ok: false, reason: 'not a Stripe event' };
    case 'github': {
      // event_type is `<X-GitHub-Event>` or `<X-GitHub-Event>.<action>`.
      const name = entry.eventType.split('.')[0] ?? entry.eventType;
      return isObject(json)
        ? {
            ok: true,
            input: { source: 'github', event: { name, delivery: entry.externalId ?? '', payload: json } },
          }
        : { ok: false, reason: 'GitHub payload is not an object' };
    }
    case 'standard-webhooks': {
      const type = isObject(json) && typeof json.type === 'string' ? json.type : undefined;
      const event = {
        id: entry.externalId ?? '',
        timestamp: Math.floor(entry.receivedAt / 1000),
        type,
        payload: json,
      };
      return { ok: true, input: { source: 'standard-webhooks', event } };
    }
  }
}
