import { describe, expect, it } from 'vitest';
import type { Automation } from '../../src/automations/types';
import type { ClaimRow } from '../../src/journal/actions';
import { claimVerdict } from '../../src/pipeline/claims';
import { claimsBeforeStart, planFor } from '../../src/pipeline/plan';

const row = (overrides: Partial<ClaimRow>): ClaimRow => ({
  actionKey: 'roles:u1',
  eventKey: 'e1',
  status: 'claimed',
  takenOverFrom: null,
  ownerStatus: 'running',
  ownerAttempts: 1,
  ...overrides,
});

describe('claim policy', () => {
  it.each([
    ['nobody holds it', undefined, 'e1', { act: true, resumed: false }],
    ['done by anyone: never again', row({ status: 'done' }), 'e1', { act: false, by: 'e1', status: 'done' }],
    ['the owner, first run', row({}), 'e1', { act: true, resumed: false }],
    ['the owner, a later run', row({ ownerAttempts: 2 }), 'e1', { act: true, resumed: true }],
    ['the owner after a takeover', row({ takenOverFrom: 'e0' }), 'e1', { act: true, resumed: true }],
    ['another event, owner live', row({}), 'e2', { act: false, by: 'e1', status: 'claimed' }],
    [
      'another event, owner received',
      row({ ownerStatus: 'received' }),
      'e2',
      { act: false, by: 'e1', status: 'claimed' },
    ],
    ['another event, owner failed', row({ ownerStatus: 'failed' }), 'e2', 'takeover'],
    ['another event, owner gone', row({ ownerStatus: null }), 'e2', 'takeover'],
  ] as const)('%s', (_, claim, eventKey, verdict) => {
    expect(claimVerdict(claim, eventKey)).toEqual(verdict);
  });
});

const automation = (name: string, key?: (userId: string) => string): Automation => ({
  name,
  logtoEvents: [],
  wants: (input) => input.source === 'reconcile',
  actionKey: key && ((input) => (input.source === 'reconcile' ? key(input.user.id) : undefined)),
  run: async () => null,
});
const input = { source: 'reconcile' as const, user: { id: 'u1' } as never };

describe('planner', () => {
  it('plans every automation that wants the input, in order, with its action key (none in a dry run)', () => {
    const automations = [automation('a', (id) => `a:${id}`), automation('b')];
    expect(planFor(automations, input, false)).toEqual([
      { name: 'a', actionKey: 'a:u1' },
      { name: 'b', actionKey: undefined },
    ]);
    expect(planFor(automations, input, true)).toEqual([
      { name: 'a', actionKey: undefined },
      { name: 'b', actionKey: undefined },
    ]);
    expect(
      planFor(
        automations,
        { source: 'cleanup', user: { id: 'u' } as never, action: 'suspend', dryRun: true },
        false,
      ),
    ).toEqual([]);
  });

  it('claims before the run only when every planned automation has an action', () => {
    expect(claimsBeforeStart([{ name: 'a', actionKey: 'a:u1' }])).toEqual([
      { automation: 'a', actionKey: 'a:u1' },
    ]);
    expect(claimsBeforeStart([{ name: 'a', actionKey: 'a:u1' }, { name: 'b' }])).toBeUndefined();
    expect(claimsBeforeStart([])).toBeUndefined();
  });
});
