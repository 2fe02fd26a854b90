import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogtoApiError, type Role, type User } from '../../src/logto-client';
import { rejection } from '../helpers';
import { contractTarget, E2E_CONFIGURED, E2E_MODE, SKIP_REASON, uniqueName } from './target';

type Target = Awaited<ReturnType<typeof contractTarget>>;
const run = !E2E_MODE || E2E_CONFIGURED;
if (!run) console.warn(SKIP_REASON);

const collect = async <T>(items: AsyncIterable<T>) => {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
};

describe.skipIf(!run)('Management API client contract', () => {
  let target: Target;
  const cleanup: string[] = [];
  const createUser = async (fields: Record<string, unknown>) => {
    const user = await target.logto.users.create(fields);
    cleanup.push(`/users/${user.id}`);
    return user;
  };

  beforeAll(async () => {
    target = await contractTarget();
  });
  afterAll(async () => {
    for (const path of cleanup.reverse()) await target.logto.request('DELETE', path).catch(() => undefined);
  });

  it('creates, reads, merges custom data, suspends and deletes a user', async () => {
    const username = uniqueName('ct_user').replace(/-/g, '_');
    const user = await target.logto.users.create({ username, name: 'Contract Test' });
    expect(await target.logto.users.get(user.id)).toMatchObject({ id: user.id, username, customData: {} });
    await target.logto.users.mergeCustomData(user.id, { a: 1, nested: { x: 1 } });
    const merged = await target.logto.users.mergeCustomData(user.id, { b: 2, nested: { y: 2 } });
    expect(merged).toEqual({ a: 1, b: 2, nested: { y: 2 } }); // shallow merge
    expect((await target.logto.users.setSuspended(user.id, true)).isSuspended).toBe(true);
    await target.logto.users.delete(user.id);
    const error = await rejection<LogtoApiError>(target.logto.users.get(user.id));
    expect(error).toBeInstanceOf(LogtoApiError);
    expect(error).toMatchObject({ status: 404, logtoCode: 'entity.not_found' });
  });

  it('searches with Logto’s syntax: search.<field>, mode.<field>, joint, isCaseSensitive', async () => {
    const tag = uniqueName('ct').replace(/-/g, '_');
    const alice = await createUser({ username: `${tag}_alice`, primaryEmail: `${tag}.alice@example.com` });
    const bob = await createUser({ username: `${tag}_bob`, primaryEmail: `${tag}.bob@example.org` });
    const ids = (users: User[]) => users.map((user) => user.id).sort();
    const like = await collect(target.logto.users.search({ fields: { username: `${tag}%` } }));
    expect(ids(like)).toEqual([alice.id, bob.id].sort());
    const exact = await collect(
      target.logto.users.search({ fields: { username: `${tag}_ALICE` }, fieldModes: { username: 'exact' } }),
    );
    expect(ids(exact)).toEqual([alice.id]);
    const caseSensitive = await collect(
      target.logto.users.search({
        fields: { username: `${tag}_ALICE` },
        fieldModes: { username: 'exact' },
        isCaseSensitive: true,
      }),
    );
    expect(caseSensitive).toEqual([]);
    const and = await collect(
      target.logto.users.search({
        fields: { username: `${tag}%`, primaryEmail: '%@example.org' },
        joint: 'and',
      }),
    );
    expect(ids(and)).toEqual([bob.id]);
  });

  it('pages through every result (page_size ≤ 100, Total-Number), whatever the Link headers say', async () => {
    const tag = uniqueName('pg').replace(/-/g, '_');
    for (let i = 0; i < 5; i++) await createUser({ username: `${tag}_${i}` });
    const listCalls = () => target.emulator?.faults.count('GET /api/users') ?? 0;
    const before = listCalls();
    const found = await collect(target.logto.users.search({ fields: { username: `${tag}%` } }, 2));
    expect(found.map((user) => user.username).sort()).toEqual([0, 1, 2, 3, 4].map((i) => `${tag}_${i}`));
    if (target.emulator) expect(listCalls() - before).toBe(3); // pages of 2, 2 and 1
    const raw = await target.logto.request<User[]>('GET', '/users', {
      query: new URLSearchParams({ 'search.username': `${tag}%`, page: '1', page_size: '1' }),
    });
    expect(raw.headers.get('total-number')).toBe('5');
    expect(raw.headers.get('link')).toMatch(/rel="next"/);
    await expect(rejection(collect(target.logto.users.search({}, 101)))).resolves.toBeInstanceOf(RangeError);
  });

  it('assigns user roles idempotently and finds roles by exact name', async () => {
    const name = uniqueName('ct-role');
    const { data: role } = await target.logto.request<Role>('POST', '/roles', {
      body: { name, description: 'contract test', type: 'User' },
    });
    cleanup.push(`/roles/${role.id}`);
    const user = await createUser({ username: uniqueName('ct_roles').replace(/-/g, '_') });
    expect(await target.logto.roles.findByName(name)).toMatchObject({ id: role.id, name });
    expect(await target.logto.roles.findByName(`${name}-missing`)).toBeUndefined();
    expect(await target.logto.users.assignRoles(user.id, [role.id])).toEqual({
      roleIds: [role.id],
      addedRoleIds: [role.id],
    });
    expect(await target.logto.users.assignRoles(user.id, [role.id])).toEqual({
      roleIds: [role.id],
      addedRoleIds: [],
    });
    expect((await collect(target.logto.users.listRoles(user.id))).map((r) => r.id)).toEqual([role.id]);
  });

  it('creates organizations (names not unique), adds members and organization roles, manages JIT domains', async () => {
    const name = uniqueName('ct-org');
    const first = await target.logto.organizations.create({ name });
    const second = await target.logto.organizations.create({ name });
    cleanup.push(`/organizations/${first.id}`, `/organizations/${second.id}`);
    expect(first.id).not.toBe(second.id);
    expect((await collect(target.logto.organizations.list({ q: name }))).length).toBe(2);
    const roleName = uniqueName('ct-org-role');
    const { data: orgRole } = await target.logto.request<{ id: string }>('POST', '/organization-roles', {
      body: { name: roleName },
    });
    cleanup.push(`/organization-roles/${orgRole.id}`);
    const user = await createUser({ username: uniqueName('ct_member').replace(/-/g, '_') });

    const notMember = await rejection<LogtoApiError>(
      target.logto.organizations.assignUserRoles(first.id, user.id, { organizationRoleNames: [roleName] }),
    );
    expect(notMember).toMatchObject({ status: 422, logtoCode: 'organization.require_membership' });
    await target.logto.organizations.addUsers(first.id, [user.id]);
    await target.logto.organizations.addUsers(first.id, [user.id]); // existing members are skipped
    await target.logto.organizations.assignUserRoles(first.id, user.id, {
      organizationRoleNames: [roleName],
    });
    expect(await target.logto.organizationRoles.findByName(roleName)).toMatchObject({ id: orgRole.id });
    const unknownName = await rejection<LogtoApiError>(
      target.logto.organizations.assignUserRoles(first.id, user.id, {
        organizationRoleNames: [`${roleName}-x`],
      }),
    );
    expect(unknownName).toMatchObject({ status: 422, logtoCode: 'organization.role_names_not_found' });
    const unknownUser = await rejection<LogtoApiError>(
      target.logto.organizations.addUsers(first.id, ['nouser00000']),
    );
    expect(unknownUser).toMatchObject({ status: 422, logtoCode: 'entity.relation_foreign_key_not_found' });

    const domain = `${uniqueName('jit')}.example.com`;
    await target.logto.organizations.jitEmailDomains.add(first.id, domain);
    const listed = await collect(target.logto.organizations.jitEmailDomains.list(first.id));
    expect(listed.map((entry) => entry.emailDomain)).toEqual([domain]);
    await target.logto.organizations.jitEmailDomains.remove(first.id, domain);
    expect(await collect(target.logto.organizations.jitEmailDomains.list(first.id))).toEqual([]);
  });
});
