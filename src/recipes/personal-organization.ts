import { type NewUser, newUserOf } from '../automations/new-user';
import { type Automation, AutomationError } from '../automations/types';
import type { LogtoClient, Organization } from '../logto-client';
import type { AutomationConfig } from './config';

type Options = NonNullable<AutomationConfig['personalOrganization']>;

/** customData key on the organization naming the user it was made for: how a retry finds an earlier attempt's. */
export const OWNER_TAG = 'personalOrganizationOf';

/** Fills a name template; undefined when a placeholder has no value for this user. */
export function fillTemplate(template: string, user: NewUser['user']): string | undefined {
  const email = typeof user.primaryEmail === 'string' ? user.primaryEmail : '';
  const values: Record<string, string | null | undefined> = {
    name: user.name,
    username: user.username,
    email,
    emailLocal: email.includes('@') ? email.slice(0, email.indexOf('@')) : '',
    userId: user.id,
  };
  let missing = false;
  const filled = template.replace(/\{(\w+)\}/g, (_, key: string) => {
    const value = values[key];
    if (typeof value !== 'string' || value.trim() === '') missing = true;
    return typeof value === 'string' ? value.trim() : '';
  });
  return missing ? undefined : filled.slice(0, 128);
}

export function organizationNameFor(options: Pick<Options, 'name'>, user: NewUser['user']): string {
  const templates = Array.isArray(options.name) ? options.name : [options.name];
  for (const template of templates) {
    const name = fillTemplate(template, user);
    if (name) return name;
  }
  return `Workspace ${user.id}`;
}

/** An organization an earlier attempt made for this user (names are not unique in Logto: match the owner tag). */
async function findTagged(
  logto: LogtoClient,
  name: string,
  userId: string,
): Promise<Organization | undefined> {
  for await (const org of logto.organizations.list({ q: name })) {
    if (org.name === name && (org.customData as Record<string, unknown> | undefined)?.[OWNER_TAG] === userId)
      return org;
  }
  return undefined;
}

/**
 * Recipe: a personal organization for each new user. Creating an organization is not idempotent in Logto (names are
 * not unique), so: the action is claimed in the journal before anything is created; the user's customData is checked
 * first for a recorded organization ID; the new organization carries the user's ID in its customData; an attempt
 * that may follow an unknown outcome (a retried step, a replay, a takeover) looks that tag up before creating; and
 * the ID is recorded on the user (custom-data merge) right after creation.
 */
export function personalOrganization(options: Options): Automation {
  const target = (input: Parameters<Automation['wants']>[0]) => {
    const user = newUserOf(input);
    if (!user || (user.origin === 'management-api' && !options.includeApiUsers)) return undefined;
    return user;
  };
  return {
    name: 'personal-organization',
    wants: (input) => target(input) !== undefined,
    actionKey: (input) => {
      const user = target(input);
      return user && `personal-organization:${user.user.id}`;
    },
    async run(ctx) {
      const newUser = target(ctx.input);
      if (!newUser) throw new AutomationError('no_subject', 'the event names no user');
      const userId = newUser.user.id;
      let user = newUser.user;
      // A replay, a takeover or the sweep may act on a stale snapshot: read the user again.
      if (ctx.resumed || ctx.input.source === 'reconcile' || user.customData === undefined) {
        user = await ctx.call('read user', (logto) => logto.users.get(userId));
      }
      const name = organizationNameFor(options, user);
      const recorded = (user.customData as Record<string, unknown> | undefined)?.[options.customDataKey];
      const roles = options.organizationRoles;
      if (ctx.dryRun) {
        return typeof recorded === 'string'
          ? { userId, organizationId: recorded, wouldEnsureMembership: true, roles }
          : { userId, wouldCreate: name, roles, recordIn: `customData.${options.customDataKey}` };
      }
      let organizationId = typeof recorded === 'string' ? recorded : undefined;
      const created = organizationId === undefined;
      if (!organizationId) {
        const org = await ctx.call('create organization', async (logto, attempt) => {
          if (ctx.resumed || attempt.number > 1) {
            const earlier = await findTagged(logto, name, userId);
            if (earlier) return { id: earlier.id, found: true };
          }
          const made = await logto.organizations.create({
            name,
            description: options.description,
            customData: { [OWNER_TAG]: userId },
          });
          return { id: made.id, found: false };
        });
        organizationId = org.id;
        const id = organizationId;
        await ctx.call('record organization on user', (logto) =>
          logto.users.mergeCustomData(userId, { [options.customDataKey]: id }),
        );
      }
      const id = organizationId;
      await ctx.call('add user to organization', (logto) => logto.organizations.addUsers(id, [userId]));
      if (roles.length > 0) {
        await ctx.call('assign organization roles', (logto) =>
          logto.organizations.assignUserRoles(id, userId, { organizationRoleNames: roles }),
        );
      }
      return { userId, organizationId: id, name, created, roles };
    },
  };
}
