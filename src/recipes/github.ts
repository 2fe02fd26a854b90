import * as v from 'valibot';
import {
  type Automation,
  AutomationError,
  assignRolesByName,
  type NewUser,
  newUserAutomation,
  newUserOf,
  objectField,
  revokeRolesByName,
} from '../automations';
import { LogtoApiError } from '../logto-client';
import { record, strictObject } from '../validation';
import { type ImportedRecipe, nonEmpty, recipeOptions, roleNames } from './config';

/** Built when the recipe is imported and used (a schema at the top level would be deployed with every bundle). */
const optionsSchema = () =>
  strictObject({
    /** Per GitHub organization login: what membership in it grants in Logto. */
    organizations: record(
      nonEmpty,
      strictObject({
        roles: roleNames,
        organizationId: v.optional(nonEmpty),
        organizationRoles: roleNames,
      }),
    ),
    /** The Logto social connector target holding GitHub identities. */
    connector: v.optional(nonEmpty, 'github'),
  });

/** What `github({ … })` takes in automations.config.ts. */
export type GithubOptions = v.InferInput<ReturnType<typeof optionsSchema>>;
type Options = v.InferOutput<ReturnType<typeof optionsSchema>>;

/**
 * The GitHub recipe for automations.config.ts: `github: github({ organizations: { 'your-org': { roles: ['member'] } } })`
 * (set GITHUB_WEBHOOK_SECRET): the identity links and the organization-membership mapping below. Its options are
 * checked here, when the configuration loads: a bad field throws naming it. Imported only by configurations that
 * use it: its code is deployed only then.
 */
export function github(options: GithubOptions): ImportedRecipe<'github'> {
  const parsed = recipeOptions('github', optionsSchema(), options);
  return { recipe: 'github', automations: [githubIdentityLinks(parsed), githubOrganizations(parsed)] };
}

/**
 * Remembers the GitHub user ID of every new user with a GitHub identity (D1 `links`), because Logto cannot search
 * users by identity. Runs on sign-ups, `User.Created` and the sweep; no Management API call.
 */
export function githubIdentityLinks(options: Options): Automation {
  const githubIdOf = (user: NewUser) => user.user.identities?.[options.connector]?.userId;
  return newUserAutomation(
    'github-identity-link',
    (input) => {
      const user = newUserOf(input);
      return user && githubIdOf(user) ? user : undefined;
    },
    async (ctx, user) => {
      const found = { userId: user.user.id, githubId: String(githubIdOf(user)) };
      if (!ctx.dryRun) await ctx.call('link', () => ctx.links.save('github', found.githubId, found.userId));
      return found;
    },
  );
}

/**
 * Recipe: membership of a GitHub organization → Logto. `organization` events `member_added` grant the configured
 * roles (and organization membership with organization roles); `member_removed` takes them away. The Logto user is
 * the one whose GitHub identity has the member's GitHub user ID.
 */
export function githubOrganizations(options: Options): Automation {
  const mappingOf = (input: Parameters<Automation['wants']>[0]) => {
    if (input.source !== 'github' || input.event.name !== 'organization') return undefined;
    const { payload, delivery } = input.event;
    if (payload.action !== 'member_added' && payload.action !== 'member_removed') return undefined;
    const login = objectField(payload.organization).login;
    const mapping =
      typeof login === 'string' && Object.hasOwn(options.organizations, login)
        ? options.organizations[login]
        : undefined;
    const member = objectField(objectField(payload.membership).user);
    return mapping && member.id !== undefined
      ? {
          mapping,
          org: String(login),
          added: payload.action === 'member_added',
          githubId: String(member.id),
          login: String(member.login ?? ''),
          delivery,
        }
      : undefined;
  };
  return {
    name: 'github',
    logtoEvents: [],
    wants: (input) => mappingOf(input) !== undefined,
    // Acts once per delivery: an operator's replay of a `member_added` after a `member_removed` grants nothing again
    // (a resent delivery is already a duplicate: its event key is the signed body).
    actionKey: (input) => {
      const found = mappingOf(input);
      return (
        found &&
        `github:${found.org}:${found.githubId}:${found.added ? 'added' : 'removed'}:${found.delivery}`
      );
    },
    async run(ctx) {
      const found = mappingOf(ctx.input);
      if (!found) return { skipped: true };
      const { mapping, added, githubId } = found;
      const userId = await ctx.call('find user', async () => {
        const linked = await ctx.links.find('github', githubId);
        if (!linked) {
          throw new AutomationError(
            'user_not_found',
            `no Logto user with GitHub identity ${githubId} (${found.login}); replay after they sign in with GitHub`,
          );
        }
        return linked;
      });
      const { roles, organizationRoles } = mapping;
      const organizationId = mapping.organizationId ?? null;
      if (ctx.dryRun) return { userId, added, roles, organizationId };
      if (added) {
        if (roles.length > 0)
          await ctx.call('grant roles', (logto) => assignRolesByName(logto, userId, roles));
        if (organizationId) {
          await ctx.call('join organization', (logto) =>
            logto.organizations.addUsers(organizationId, [userId]),
          );
          if (organizationRoles.length > 0) {
            await ctx.call('assign organization roles', (logto) =>
              logto.organizations.assignUserRoles(organizationId, userId, {
                organizationRoleNames: organizationRoles,
              }),
            );
          }
        }
        return { userId, added, roles, organizationId };
      }
      const revoked = await ctx.call('revoke roles', (logto) => revokeRolesByName(logto, userId, roles));
      if (organizationId) {
        await ctx.call('leave organization', async (logto) => {
          try {
            await logto.organizations.removeUser(organizationId, userId);
          } catch (error) {
            // 404: not a member (any more) — what we want.
            if (!(error instanceof LogtoApiError && error.status === 404)) throw error;
          }
        });
      }
      return { userId, added, revokedCount: revoked, organizationId };
    },
  };
}
