import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../emulator/faults';
import {
  admit,
  type Budget,
  createWindow,
  nextOpening,
  pause,
  release,
  settle,
  used,
} from '../../src/governor/window';

const BUDGET: Budget = { requests: 5, windowMs: 1_000 };

describe('governor window arithmetic', () => {
  it('grants up to the budget, holds a slot from grant until one window after the answer', () => {
    const window = createWindow();
    for (let i = 0; i < 5; i++) expect(admit(window, BUDGET, 0, `t${i}`, 10_000)).toBe(true);
    expect(admit(window, BUDGET, 0, 'x', 10_000)).toBe(false);
    // Answered at 200: the slot stays counted until 1 200.
    expect(release(window, 't0', 200)).toBe(true);
    expect(release(window, 't0', 250)).toBe(false);
    expect(admit(window, BUDGET, 1_199, 'x', 10_000)).toBe(false);
    expect(nextOpening(window, BUDGET, 1_000)).toBe(1_200);
    expect(admit(window, BUDGET, 1_200, 'x', 10_000)).toBe(true);
  });

  it('a grant never released lapses after its lease and then counts from the lapse', () => {
    const window = createWindow();
    for (let i = 0; i < 5; i++) admit(window, BUDGET, 0, `t${i}`, 3_000);
    // Every slot in flight, no answer yet: the first lapse is the next opening.
    expect(nextOpening(window, BUDGET, 100)).toBe(3_000);
    settle(window, BUDGET, 3_000);
    expect(window.inflight.size).toBe(0);
    expect(used(window, BUDGET, 3_999)).toBe(5);
    expect(used(window, BUDGET, 4_000)).toBe(0);
  });

  it('a pause (a 429’s Retry-After) stops every grant until it ends; an earlier pause never shortens it', () => {
    const window = createWindow();
    pause(window, 5_000);
    pause(window, 2_000);
    expect(admit(window, BUDGET, 4_999, 'a', 1_000)).toBe(false);
    expect(nextOpening(window, BUDGET, 100)).toBe(5_000);
    expect(admit(window, BUDGET, 5_000, 'a', 1_000)).toBe(true);
  });

  it('every slot answered within the window: the next opening is when the oldest answer leaves it', () => {
    const window = createWindow();
    for (let i = 0; i < 5; i++) {
      admit(window, BUDGET, 0, `t${i}`, 10_000);
      release(window, `t${i}`, 100);
    }
    expect(nextOpening(window, BUDGET, 500)).toBe(1_100);
  });
});

/**
 * Calls granted by the window, each reaching the server after a random delay (a queued connection, a busy CPU) and
 * answered some time after that; returns the most arrivals the server saw in any window of its length.
 */
function simulate(countFrom: 'answer' | 'grant', seed: number): number {
  const random = seededRandom(seed);
  const window = createWindow();
  const arrivals: number[] = [];
  const pending: { ticket: string; answerAt: number }[] = [];
  let serial = 0;
  for (let now = 0; now < 20_000; now += 5) {
    for (const call of pending.splice(0).filter((p) => p.answerAt <= now || !pending.push(p))) {
      if (countFrom === 'answer') release(window, call.ticket, call.answerAt);
    }
    while (admit(window, BUDGET, now, `c${++serial}`, 60_000)) {
      const ticket = `c${serial}`;
      const arrival = now + (random() < 0.2 ? 300 + random() * 400 : random() * 20);
      arrivals.push(arrival);
      if (countFrom === 'grant') release(window, ticket, now);
      else pending.push({ ticket, answerAt: arrival + 10 + random() * 50 });
    }
  }
  arrivals.sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < arrivals.length; i++) {
    while ((arrivals[i] ?? 0) - (arrivals[j] ?? 0) >= BUDGET.windowMs) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

describe('counting from the answer keeps the server under its limit whatever the latency', () => {
  it('never more than the budget arrives in any window (10 seeds)', () => {
    for (let seed = 1; seed <= 10; seed++)
      expect(simulate('answer', seed)).toBeLessThanOrEqual(BUDGET.requests);
  });

  it('control: counting from the grant lets delayed calls bunch up on the server', () => {
    const worst = Math.max(...Array.from({ length: 10 }, (_, i) => simulate('grant', i + 1)));
    expect(worst).toBeGreaterThan(BUDGET.requests);
  });
});
