/**
 * The rate governor's arithmetic, pure so it is unit-tested without a runtime: a sliding window in which a call
 * holds a slot from its grant until `windowMs` after its answer.
 *
 * Why from the answer: a server counts a request when it arrives, somewhere between grant and answer, and calls do
 * not arrive at the spacing they were granted (one waits for a connection, another for CPU). Counting from the answer
 * guarantees that no `requests + 1` calls reach the server within one window, whatever the latency, at the cost of
 * one latency per window (~1 % with 100 ms calls and a 10 s window). A grant that is never released (its caller died)
 * lapses after its lease and then counts as answered at the lapse.
 */

/** At most `requests` Management API calls per `windowMs` (Logto Cloud's advice: 200 per 10 s). */
export interface Budget {
  requests: number;
  windowMs: number;
}

export interface SlotWindow {
  /** Answer times of the calls that still count, ascending. */
  answered: number[];
  /** Granted calls not yet answered: ticket → when the grant lapses if never released. */
  inflight: Map<string, number>;
  /** No grant before this time (a 429's `Retry-After`, for every caller). */
  pausedUntil: number;
}

export const createWindow = (): SlotWindow => ({ answered: [], inflight: new Map(), pausedUntil: 0 });

function insertSorted(list: number[], value: number) {
  let i = list.length;
  while (i > 0 && (list[i - 1] ?? 0) > value) i--;
  list.splice(i, 0, value);
}

/** Lapses expired grants (counted as answered when they lapsed) and drops answers older than the window. */
export function settle(window: SlotWindow, budget: Budget, now: number): void {
  for (const [ticket, lapseAt] of window.inflight) {
    if (lapseAt <= now) {
      window.inflight.delete(ticket);
      insertSorted(window.answered, lapseAt);
    }
  }
  const cutoff = now - budget.windowMs;
  while (window.answered.length > 0 && (window.answered[0] as number) <= cutoff) window.answered.shift();
}

/** Slots counted now: answered within the window plus in flight. */
export function used(window: SlotWindow, budget: Budget, now: number): number {
  settle(window, budget, now);
  return window.answered.length + window.inflight.size;
}

/** Grants `ticket` a slot when one is free and no pause is on; the grant lapses `leaseMs` from now. */
export function admit(
  window: SlotWindow,
  budget: Budget,
  now: number,
  ticket: string,
  leaseMs: number,
): boolean {
  if (now < window.pausedUntil) return false;
  if (used(window, budget, now) >= budget.requests) return false;
  window.inflight.set(ticket, now + leaseMs);
  return true;
}

/** Records the answer of a granted call; false when the ticket is unknown (it lapsed, or was never granted). */
export function release(window: SlotWindow, ticket: string, at: number): boolean {
  if (!window.inflight.delete(ticket)) return false;
  insertSorted(window.answered, at);
  return true;
}

/** Stops every grant until `until` (epoch ms); an earlier pause never shortens a later one. */
export function pause(window: SlotWindow, until: number): void {
  window.pausedUntil = Math.max(window.pausedUntil, until);
}

/**
 * The earliest time a slot may free up: the pause's end, the oldest answer leaving the window, or the first lease
 * to lapse. `now` when a slot is free already.
 */
export function nextOpening(window: SlotWindow, budget: Budget, now: number): number {
  if (now < window.pausedUntil) return window.pausedUntil;
  if (used(window, budget, now) < budget.requests) return now;
  // Every slot is counted (a budget has at least one), so there is an answer or a grant in flight.
  return Math.min(
    (window.answered[0] ?? Number.POSITIVE_INFINITY) + budget.windowMs,
    ...window.inflight.values(),
  );
}
