import { canonicalJson, parseLogtoEvent } from '../events';
import type { NewEvent } from '../journal';
import { logtoEventRecord, type Planner } from './logto';

/** A hook log entry as Logto returns it (logto-reference §0.1); only what recovery reads is typed. */
export interface HookLogEntry {
  id: string;
  key: string;
  createdAt: number;
  payload: { result?: string; hookRequest?: { body?: unknown } };
}

/**
 * A Logto event read back from Logto's hook log (`GET /api/hooks/:id/recent-logs`, src/sweep/recovery.ts): only an
 * attempt whose delivery did not succeed (`result: "Error"`) is one; its body (`payload.hookRequest.body`, stored as
 * jsonb, so its key order is not the sent one) is validated like a live delivery and keyed by its canonical JSON — the
 * same key as the live copy. No signature: Logto's own API, read with the M2M token, is the authority. Freshness is
 * not checked (recovering old deliveries is the point).
 */
export async function recoveredRecord(
  entry: HookLogEntry,
  planner: Planner,
): Promise<NewEvent | 'delivered' | 'invalid'> {
  if (entry.payload?.result !== 'Error') return 'delivered';
  const body = entry.payload.hookRequest?.body;
  const parsed = parseLogtoEvent(body);
  if (!parsed.ok) return 'invalid';
  return logtoEventRecord(parsed.event, body, canonicalJson(body), planner, 'recovered');
}
