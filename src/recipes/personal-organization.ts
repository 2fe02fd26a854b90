import { type Automation, AutomationError, NEW_USER_EVENTS, type NewUser, newUserOf } from '../automations';
import { LogtoApiError, type LogtoClient, type Organization } from '../logto-client';
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
    const text = typeof value === 'string' ? value.trim() : '';
    if (!text) missing = true;
    return text;
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

const ownerOf = (org: Organization) => (org.customData as Record<string, unknown> | undefined)?.[OWNER_TAG];

/**
 * The organizations made for this user (names are not unique in Logto: the owner tag decides), oldest first. More
 * than one means an earlier attempt's create committed after it was given up: the oldest is used, the rest reported.
 */
async function findTagged(logto: LogtoClient, name: string, userId: string): Promise<Organization[]> {
  const found: Organization[] = [];
  for await (const org of logto.organizations.list({ q: name }))
    if (org.name === name && ownerOf(org) === userId) found.push(org);
  return found.sort(
    (a, b) => Number(a.createdAt ?? 0) - Number(b.createdAt ?? 0) || a.id.localeCompare(b.id),
  );
}

/**
 * The organization ID recorded in the user's customData, only if that organization's owner tag names this user:
 * a user may be allowed to edit their own customData (Logto's Account API), and must not be able to point it at
 * someone else's organization to join it.
 */
async function verifiedRecorded(
  logto: LogtoClient,
  recorded: string,
  userId: string,
): Promise<string | null> {
  try {
    const org = await logto.organizations.get(recorded);
    return ownerOf(org) === userId ? org.id : null;
  } catch (error) {
    if (error instanceof LogtoApiError && error.status === 404) return null;
    throw error;
  }
}

/**
 * Recipe: a personal organization for each new user. Creating an organization is not idempotent in Logto (names are
 * not unique), so: the action is claimed in the journal before anything is created; an organization ID recorded in
 * the user's customData is used only if that organization's owner tag names the user; the new organization carries
 * the user's ID as its owner tag; the create is an `effect` call, so any attempt after an unknown outcome (a timeout,
 * a lost connection, a step re-run after a crash, a replay or a takeover) first lets the earlier call settle, then
 * looks the tag up before creating; a second tagged organization is reported, never used; and the ID is recorded on
 * the user (custom-data merge) right after creation.
 */
export function personalOrganization(options: Options): Automation {
  const target = (input: Parameters<Automation['wants']>[0]) => {
    const user = newUserOf(input);
    if (!user || (user.origin === 'management-api' && !options.includeApiUsers)) return undefined;
    return user;
  };
  return {
    name: 'personal-organization',
    logtoEvents: NEW_USER_EVENTS,
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
      let organizationId: string | undefined;
      if (typeof recorded === 'string') {
        organizationId =
          (await ctx.call('check recorded organization', (logto) =>
            verifiedRecorded(logto, recorded, userId),
          )) ?? undefined;
        if (!organizationId)
          ctx.log.warn(
            `customData.${options.customDataKey} names an organization not made for this user; ignored`,
          );
      }
      const created = organizationId === undefined;
      let duplicates: string[] = [];
      if (!organizationId) {
        const org = await ctx.call(
          'create organization',
          async (logto, attempt) => {
            if (attempt.uncertain) {
              const [earlier, ...more] = await findTagged(logto, name, userId);
              if (earlier) return { id: earlier.id, found: true, duplicates: more.map((extra) => extra.id) };
            }
            const made = await logto.organizations.create({
              name,
              description: options.description,
              customData: { [OWNER_TAG]: userId },
            });
            return { id: made.id, found: false, duplicates: [] as string[] };
          },
          { effect: true },
        );
        organizationId = org.id;
        duplicates = org.duplicates;
        if (duplicates.length > 0)
          ctx.log.error(
            `more organizations are tagged for user ${userId}, not used: ${duplicates.join(', ')}`,
          );
        await ctx.call('record organization on user', (logto) =>
          logto.users.mergeCustomData(userId, { [options.customDataKey]: org.id }),
        );
      }
      const id = organizationId;
      await ctx.call('add user to organization', (logto) => logto.organizations.addUsers(id, [userId]));
      if (roles.length > 0) {
        await ctx.call('assign organization roles', (logto) =>
          logto.organizations.assignUserRoles(id, userId, { organizationRoleNames: roles }),
        );
      }
      return {
        userId,
        organizationId: id,
        name,
        created,
        roles,
        ...(duplicates.length > 0 ? { duplicates } : {}),
      };
    },
  };
}
