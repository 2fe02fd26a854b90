import * as z from 'zod/mini';
import type { Automation, AutomationInput, NewUser } from '../automations';

/**
 * The recipes configuration (`automations.config.ts`): typed for editor completion, validated when the Worker
 * starts — a bad field stops `npm run dev`/`npm test`/the deployment with a message naming it.
 */

const CRON = /^(\S+\s+){4}\S+$/;
const name = z.string().check(z.trim(), z.minLength(1), z.maxLength(128));
const names = z.array(name).check(z.minLength(1));
const predicate = z.custom<(user: NewUser, input: AutomationInput) => boolean>(
  (value) => typeof value === 'function',
  { message: 'must be a function (user, input) => boolean' },
);

/** When a rule matches: every condition given must hold (AND); give at least one. */
const ruleWhen = z
  .strictObject({
    /** The user's primary email is at one of these domains (only when the email is verified; see README). */
    emailDomains: z.optional(
      z
        .array(
          z
            .string()
            .check(
              z.trim(),
              z.toLowerCase(),
              z.regex(/^[a-z0-9.-]+\.[a-z]{2,}$/, 'must be a domain like example.com'),
            ),
        )
        .check(z.minLength(1)),
    ),
    /** The user has an identity from one of these social/SSO connectors (`identities` keys, e.g. `github`). */
    connectors: z.optional(names),
    /** The user signed up through one of these applications (Logto application IDs). */
    applications: z.optional(names),
    /** Your own test. */
    test: z.optional(predicate),
  })
  .check(
    z.refine((when) => Object.values(when).some((value) => value !== undefined), {
      message: 'give at least one condition (emailDomains, connectors, applications or test)',
    }),
  );

/**
 * Act again when the reconciliation's filter scan finds the user out of policy (the role or membership was removed
 * since): the rule is enforced once per pass. Default false: done once, an admin's later removal stands.
 */
const enforce = z._default(z.boolean(), false);

const ruleName = z
  .string()
  .check(
    z.regex(
      /^[a-z0-9][a-z0-9-]{0,62}$/,
      'must be lowercase letters, digits and dashes (it names the action in the journal)',
    ),
  );

const automationSchema = z.custom<Automation>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Automation).name === 'string' &&
    typeof (value as Automation).run === 'function' &&
    typeof (value as Automation).wants === 'function' &&
    Array.isArray((value as Automation).logtoEvents),
  { message: 'must be made with defineAutomation()' },
);

export const automationConfigSchema = z.strictObject({
  /** Journal what would be done; change nothing in Logto. */
  dryRun: z._default(z.boolean(), false),
  /** Treat emails set through the Management API as verified for `emailDomains` rules (default: only sign-ups). */
  trustApiEmails: z._default(z.boolean(), false),
  personalOrganization: z.optional(
    z.strictObject({
      /**
       * Name templates tried in order; the first whose placeholders are all known wins. Placeholders: `{name}`,
       * `{username}`, `{email}`, `{emailLocal}` (the part before @), `{userId}`.
       */
      name: z._default(
        z.union([
          z.string().check(z.minLength(1)),
          z.array(z.string().check(z.minLength(1))).check(z.minLength(1)),
        ]),
        ["{name}'s workspace", "{username}'s workspace", "{emailLocal}'s workspace", 'Workspace {userId}'],
      ),
      description: z.optional(z.string().check(z.maxLength(256))),
      /** Organization roles (by name) the user gets in their organization. */
      organizationRoles: z._default(z.array(name), []),
      /** The customData key where the organization ID is recorded (checked before creating). */
      customDataKey: z._default(z.string().check(z.minLength(1)), 'personalOrganizationId'),
      /** Also for users created through the Management API (default: sign-ups only). */
      includeApiUsers: z._default(z.boolean(), false),
    }),
  ),
  rolesByRule: z
    ._default(z.array(z.strictObject({ name: ruleName, roles: names, when: ruleWhen, enforce: enforce })), [])
    .check(
      z.refine(
        (rules) => new Set(rules.map((rule) => rule.name)).size === rules.length,
        'rule names must be unique',
      ),
    ),
  organizationsByRule: z
    ._default(
      z.array(
        z.strictObject({
          name: ruleName,
          organizationId: z.string().check(z.minLength(1)),
          organizationRoles: z._default(z.array(name), []),
          when: ruleWhen,
          enforce: enforce,
        }),
      ),
      [],
    )
    .check(
      z.refine(
        (rules) => new Set(rules.map((rule) => rule.name)).size === rules.length,
        'rule names must be unique',
      ),
    ),
  stamps: z.optional(
    z.strictObject({
      /** Top-level customData key the stamp is merged under. */
      key: z._default(z.string().check(z.minLength(1)), 'signUp'),
      /** Built-in fields: how the user came (`source`), first application, Logto's creation time, stamp time. */
      fields: z._default(
        z.array(z.enum(['source', 'applicationId', 'createdAt', 'stampedAt', 'connectors'])),
        ['source', 'applicationId', 'createdAt', 'stampedAt'],
      ),
      /** Your own fields (JSON values), computed from the new user. */
      extra: z.optional(
        z.custom<(user: NewUser) => Record<string, unknown>>((value) => typeof value === 'function', {
          message: 'must be a function (user) => object',
        }),
      ),
    }),
  ),
  reconcile: z._default(
    z.strictObject({
      enabled: z._default(z.boolean(), true),
      /** Must also be listed in wrangler.toml `[triggers] crons`. */
      cron: z._default(z.string().check(z.regex(CRON, 'must be a 5-field cron expression')), '*/15 * * * *'),
      /** On the very first sweep, look back this far (users created before are left alone). */
      initialLookbackMinutes: z._default(z.int().check(z.gte(0), z.lte(525_600)), 60),
      /** Re-read this much before the cursor (clock skew between Logto and the Worker). */
      overlapMinutes: z._default(z.int().check(z.gte(0), z.lte(1440)), 5),
      /** Pages of 100 users per cron invocation; the next invocation resumes. */
      maxPagesPerRun: z._default(z.int().check(z.gte(1), z.lte(1000)), 20),
      /**
       * Every N hours, also read the users Logto's own filters say are out of policy — without a sign-up role
       * (`excludeRoleId`), a rule's role, or a rule's organization (`excludeOrganizationId`) — across the whole
       * tenant, not only since the cursor. An action done once is not redone (a role an admin removed stays
       * removed). 0: off.
       */
      filterEveryHours: z._default(z.int().check(z.gte(0), z.lte(720)), 24),
    }),
    {
      enabled: true,
      cron: '*/15 * * * *',
      initialLookbackMinutes: 60,
      overlapMinutes: 5,
      maxPagesPerRun: 20,
      filterEveryHours: 24,
    },
  ),
  /**
   * Brakes on mass change: a reconciliation run, a cleanup run or a bulk replay that would act on more users than
   * `maxUsers`, or (from 10 users) on more than `maxShare` of the tenant's users, acts on none of them: it is held
   * with a preview until an operator approves it (`npm run ops -- approve <batch>` or the admin API).
   */
  brakes: z._default(
    z.strictObject({
      maxUsers: z._default(z.int().check(z.gte(1), z.lte(100_000)), 50),
      /** A share of the tenant's users (0–1); null: no share limit. */
      maxShare: z._default(z.nullable(z.number().check(z.gt(0), z.lte(1))), 0.2),
    }),
    { maxUsers: 50, maxShare: 0.2 },
  ),
  cleanup: z.optional(
    z.strictObject({
      enabled: z._default(z.boolean(), false),
      /** Journal which users would be cleaned up and change nothing. On by default: turn it off after checking. */
      dryRun: z._default(z.boolean(), true),
      action: z._default(z.enum(['suspend', 'delete']), 'suspend'),
      /** Users who never signed in this many days after creation. */
      neverSignedInDays: z._default(z.int().check(z.gte(1), z.lte(3650)), 30),
      cron: z._default(z.string().check(z.regex(CRON, 'must be a 5-field cron expression')), '17 3 * * *'),
      maxPagesPerRun: z._default(z.int().check(z.gte(1), z.lte(1000)), 20),
    }),
  ),
  stripe: z.optional(
    z.strictObject({
      /** Per Stripe price ID: the Logto roles it grants and the plan name stamped in customData. */
      prices: z.record(
        z.string().check(z.minLength(1)),
        z.strictObject({ roles: z._default(z.array(name), []), plan: z.string().check(z.minLength(1)) }),
      ),
      /** Subscription statuses that grant the price's roles. */
      activeStatuses: z._default(z.array(z.string()), ['active', 'trialing']),
      /** customData key holding `{customerId, plan, status, subscriptionId, updatedAt}`. */
      customDataKey: z._default(z.string().check(z.minLength(1)), 'stripe'),
      /** Metadata field (on the subscription or checkout session) holding the Logto user ID. */
      userIdMetadataKey: z._default(z.string().check(z.minLength(1)), 'logtoUserId'),
    }),
  ),
  github: z.optional(
    z.strictObject({
      /** Per GitHub organization login: what membership in it grants in Logto. */
      organizations: z.record(
        z.string().check(z.minLength(1)),
        z.strictObject({
          roles: z._default(z.array(name), []),
          organizationId: z.optional(z.string().check(z.minLength(1))),
          organizationRoles: z._default(z.array(name), []),
        }),
      ),
      /** The Logto social connector target holding GitHub identities. */
      connector: z._default(z.string().check(z.minLength(1)), 'github'),
    }),
  ),
  /** Custom handlers made with `defineAutomation()`. */
  handlers: z._default(z.array(automationSchema), []),
});

/** What you write in `automations.config.ts` (defaults filled in when it is validated). */
export type AutomationConfigInput = z.input<typeof automationConfigSchema>;
/** The validated configuration. */
export type AutomationConfig = z.output<typeof automationConfigSchema>;

/** Typed helper for `automations.config.ts`: gives editor completion and returns its argument. */
export const defineConfig = (config: AutomationConfigInput): AutomationConfigInput => config;

/** Thrown when `automations.config.ts` is invalid; the message names the field. */
export class AutomationConfigError extends Error {
  override readonly name = 'AutomationConfigError';
  constructor(readonly issues: { path: string; message: string }[]) {
    super(
      `automations.config.ts is invalid:\n${issues.map((issue) => `  - ${issue.path || '(root)'}: ${issue.message}`).join('\n')}`,
    );
  }
}

/**
 * A short English message per issue (zod's mini build ships no locale, so its own messages are generic). Messages
 * this schema sets itself (`must be …`) are kept.
 */
function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'unrecognized_keys':
      return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`;
    case 'invalid_type':
      return `expected ${issue.expected}`;
    case 'too_small':
      return issue.origin === 'number' || issue.origin === 'int'
        ? `must be ${issue.inclusive ? 'at least' : 'more than'} ${issue.minimum}`
        : `must have at least ${issue.minimum} ${issue.origin === 'string' ? 'character' : 'item'}${Number(issue.minimum) > 1 ? 's' : ''}`;
    case 'too_big':
      return issue.origin === 'number' || issue.origin === 'int'
        ? `must be ${issue.inclusive ? 'at most' : 'less than'} ${issue.maximum}`
        : `must have at most ${issue.maximum} ${issue.origin === 'string' ? 'characters' : 'items'}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map((value) => JSON.stringify(value)).join(', ')}`;
    case 'invalid_union':
      return 'matches none of the accepted forms';
    default:
      return issue.message === 'Invalid input' ? 'is invalid' : issue.message;
  }
}

/** Validates the configuration and fills in the defaults; throws {@link AutomationConfigError} naming each bad field. */
export function parseAutomationConfig(input: unknown): AutomationConfig {
  const parsed = automationConfigSchema.safeParse(input ?? {});
  if (parsed.success) {
    const handlerNames = parsed.data.handlers.map((handler) => handler.name);
    const duplicate = handlerNames.find((handlerName, i) => handlerNames.indexOf(handlerName) !== i);
    if (duplicate)
      throw new AutomationConfigError([
        { path: 'handlers', message: `two handlers are named "${duplicate}"` },
      ]);
    return parsed.data;
  }
  throw new AutomationConfigError(
    parsed.error.issues.map((issue) => ({
      path: issue.path.map(String).join('.'),
      message: describeIssue(issue),
    })),
  );
}
