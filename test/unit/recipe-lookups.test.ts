import { describe, expect, it } from 'vitest';
import type { AutomationInput } from '../../src/automations';
import { github } from '../../src/recipes/github';

/** A GitHub `organization` delivery about a member of `login`. */
const memberAdded = (login: string) =>
  ({
    source: 'github',
    event: {
      name: 'organization',
      delivery: 'd-1',
      payload: {
        action: 'member_added',
        organization: { login },
        membership: { user: { id: 7, login: 'octo' } },
      },
    },
  }) as unknown as AutomationInput;

describe('imported recipes look their mappings up by own keys only', () => {
  it('a GitHub organization named like an Object.prototype member maps to nothing', () => {
    const [, organizations] = github({ organizations: { acme: { roles: ['dev'] } } }).automations;
    expect(organizations?.wants(memberAdded('acme'))).toBe(true);
    for (const login of ['constructor', 'toString', '__proto__', 'hasOwnProperty'])
      expect(organizations?.wants(memberAdded(login))).toBe(false);
  });
});
