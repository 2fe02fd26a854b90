import {
  type Automation,
  type AutomationInput,
  type NewUser,
  newUserAutomation,
  newUserOf,
} from '../automations';
import { LogtoApiError, type LogtoClient, type Organization } from '../logto-client';
import type { AutomationConfig } from './config';

type Options = NonNullable<AutomationConfig['personalOrganization']>;

/** customData key on the organization naming the user it was made for: how a retry finds an earlier attempt's. */
export const OWNER_TAG = 'personalOrganizationOf';

/**
 * The organization's name: the first template whose placeholders all have a value for this user (cut to 128
 * characters), else `Workspace <userId>`.
 */
export function organizationNameFor(options: Pick<Options, 'name'>, user: NewUser['user']): string {
  const email = typeof user.primaryEmail === 'string' ? user.primaryEmail : '';
  const values: Record<string, string | null | undefined> = {
    name: user.name,
    username: user.username,
    email,
    emailLocal: email.includes('@') ? email.slice(0, email.indexOf('@')) : '',
    userId: user.id,
  };
  for (const template of [options.name].flat()) {
    let missing = false;
    const name = template.replace(/\{(\w+)\}/g, (_, key: string) => {
      const value = values[key];
      const text = typeof value === 'string' ? value.trim() : '';
      if (!text) missing = true;
      return text;
    });
    if (!missing) return name.slice(0, 128);
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
  return found.sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
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
  const target = (input: AutomationInput) => {
    const user = newUserOf(input);
    return user && (user.origin === 'sign-up' || options.includeApiUsers) ? user : undefined;
  };
  return newUserAutomation('personal-organization', target, async (ctx, newUser) => {
    const userId = newUser.user.id;
    // A replay, a takeover or the sweep may act on a stale snapshot: read the user again.
    const user =
      ctx.resumed || ctx.input.source === 'reconcile' || newUser.user.customData === undefined
        ? await ctx.call('read user', (logto) => logto.users.get(userId))
        : newUser.user;
    const key = options.customDataKey;
    const name = organizationNameFor(options, user);
    const recorded = (user.customData as Record<string, unknown> | undefined)?.[key];
    const roles = options.organizationRoles;
    if (ctx.dryRun) {
      return typeof recorded === 'string'
        ? { userId, organizationId: recorded, wouldEnsureMembership: true, roles }
        : { userId, wouldCreate: name, roles, recordIn: `customData.${key}` };
    }
    let id: string | null = null;
    if (typeof recorded === 'string') {
      id = await ctx.call('check recorded organization', (logto) =>
        verifiedRecorded(logto, recorded, userId),
      );
      if (!id) ctx.log.warn(`customData.${key} names an organization not made for this user; ignored`);
    }
    const created = !id;
    let duplicates: string[] = [];
    if (!id) {
      ({ id, duplicates } = await ctx.call(
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
          return { id: made.id, found: false, duplicates: [] };
        },
        { effect: true },
      ));
      if (duplicates.length > 0)
        ctx.log.error(`more organizations are tagged for user ${userId}, not used: ${duplicates.join(', ')}`);
      const made = id;
      await ctx.call('record organization on user', (logto) =>
        logto.users.mergeCustomData(userId, { [key]: made }),
      );
    }
    const organizationId = id;
    await ctx.call('add user to organization', (logto) =>
      logto.organizations.addUsers(organizationId, [userId]),
    );
    if (roles.length > 0) {
      await ctx.call('assign organization roles', (logto) =>
        logto.organizations.assignUserRoles(organizationId, userId, { organizationRoleNames: roles }),
      );
    }
    return { userId, organizationId, name, created, roles, ...(duplicates.length > 0 ? { duplicates } : {}) };
  });
}
