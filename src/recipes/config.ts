import { z } from 'zod';
import type { Automation, AutomationInput, NewUser } from '../automations';

/**
 * The recipes configuration (`automations.config.ts`): typed for editor completion, validated when the Worker
 * starts — a bad field stops `npm run dev`/`npm test`/the deployment with a message naming it.
 */

const CRON = /^(\S+\s+){4}\S+$/;
const name = z.string().trim().min(1).max(128);
const names = z.array(name).min(1);
const predicate = z.custom<(user: NewUser, input: AutomationInput) => boolean>(
  (value) => typeof value === 'function',
  { message: 'must be a function (user, input) => boolean' },
);

/** When a rule matches: every condition given must hold (AND); give at least one. */
const ruleWhen = z
  .strictObject({
    /** The user's primary email is at one of these domains (only when the email is verified; see README). */
    emailDomains: z
      .array(
        z
          .string()
          .trim()
          .toLowerCase()
          .regex(/^[a-z0-9.-]+\.[a-z]{2,}$/, 'must be a domain like example.com'),
      )
      .min(1)
      .optional(),
    /** The user has an identity from one of these social/SSO connectors (`identities` keys, e.g. `github`). */
    connectors: names.optional(),
    /** The user signed up through one of these applications (Logto application IDs). */
    applications: names.optional(),
    /** Your own test. */
    test: predicate.optional(),
  })
  .refine((when) => Object.values(when).some((value) => value !== undefined), {
    message: 'give at least one condition (emailDomains, connectors, applications or test)',
  });

/**
 * Act again when the reconciliation's filter scan finds the user out of policy (the role or membership was removed
 * since): the rule is enforced once per pass. Default false: done once, an admin's later removal stands.
 */
const enforce = z.boolean().default(false);

const ruleName = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9-]{0,62}$/,
    'must be lowercase letters, digits and dashes (it names the action in the journal)',
  );

const automationSchema = z.custom<Automation>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Automation).name === 'string' &&
    typeof (value as Automation).run === 'function' &&
    typeof (value as Automation).wants === 'function',
  { message: 'must be made with defineAutomation()' },
);

export const automationConfigSchema = z.strictObject({
  /** Journal what would be done; change nothing in Logto. */
  dryRun: z.boolean().default(false),
  /** Treat emails set through the Management API as verified for `emailDomains` rules (default: only sign-ups). */
  trustApiEmails: z.boolean().default(false),
  personalOrganization: z
    .strictObject({
      /**
       * Name templates tried in order; the first whose placeholders are all known wins. Placeholders: `{name}`,
       * `{username}`, `{email}`, `{emailLocal}` (the part before @), `{userId}`.
       */
      name: z
        .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
        .default([
          "{name}'s workspace",
          "{username}'s workspace",
          "{emailLocal}'s workspace",
          'Workspace {userId}',
        ]),
      description: z.string().max(256).optional(),
      /** Organization roles (by name) the user gets in their organization. */
      organizationRoles: z.array(name).default([]),
      /** The customData key where the organization ID is recorded (checked before creating). */
      customDataKey: z.string().min(1).default('personalOrganizationId'),
      /** Also for users created through the Management API (default: sign-ups only). */
      includeApiUsers: z.boolean().default(false),
    })
    .optional(),
  rolesByRule: z
    .array(z.strictObject({ name: ruleName, roles: names, when: ruleWhen, enforce: enforce }))
    .default([])
    .refine(
      (rules) => new Set(rules.map((rule) => rule.name)).size === rules.length,
      'rule names must be unique',
    ),
  organizationsByRule: z
    .array(
      z.strictObject({
        name: ruleName,
        organizationId: z.string().min(1),
        organizationRoles: z.array(name).default([]),
        when: ruleWhen,
        enforce: enforce,
      }),
    )
    .default([])
    .refine(
      (rules) => new Set(rules.map((rule) => rule.name)).size === rules.length,
      'rule names must be unique',
    ),
  stamps: z
    .strictObject({
      /** Top-level customData key the stamp is merged under. */
      key: z.string().min(1).default('signUp'),
      /** Built-in fields: how the user came (`source`), first application, Logto's creation time, stamp time. */
      fields: z
        .array(z.enum(['source', 'applicationId', 'createdAt', 'stampedAt', 'connectors']))
        .default(['source', 'applicationId', 'createdAt', 'stampedAt']),
      /** Your own fields (JSON values), computed from the new user. */
      extra: z
        .custom<(user: NewUser) => Record<string, unknown>>((value) => typeof value === 'function', {
          message: 'must be a function (user) => object',
        })
        .optional(),
    })
    .optional(),
  reconcile: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** Must also be listed in wrangler.toml `[triggers] crons`. */
      cron: z.string().regex(CRON, 'must be a 5-field cron expression').default('*/15 * * * *'),
      /** On the very first sweep, look back this far (users created before are left alone). */
      initialLookbackMinutes: z.number().int().min(0).max(525_600).default(60),
      /** Re-read this much before the cursor (clock skew between Logto and the Worker). */
      overlapMinutes: z.number().int().min(0).max(1440).default(5),
      /** Pages of 100 users per cron invocation; the next invocation resumes. */
      maxPagesPerRun: z.number().int().min(1).max(1000).default(20),
      /**
       * Every N hours, also read the users Logto's own filters say are out of policy — without a sign-up role
       * (`excludeRoleId`), a rule's role, or a rule's organization (`excludeOrganizationId`) — across the whole
       * tenant, not only since the cursor. An action done once is not redone (a role an admin removed stays
       * removed). 0: off.
       */
      filterEveryHours: z.number().int().min(0).max(720).default(24),
    })
    .default({
      enabled: true,
      cron: '*/15 * * * *',
      initialLookbackMinutes: 60,
      overlapMinutes: 5,
      maxPagesPerRun: 20,
      filterEveryHours: 24,
    }),
  /**
   * Brakes on mass change: a reconciliation run, a cleanup run or a bulk replay that would act on more users than
   * `maxUsers`, or (from 10 users) on more than `maxShare` of the tenant's users, acts on none of them: it is held
   * with a preview until an operator approves it (`npm run replay -- approve <batch>` or the admin API).
   */
  brakes: z
    .strictObject({
      maxUsers: z.number().int().min(1).max(100_000).default(50),
      /** A share of the tenant's users (0–1); null: no share limit. */
      maxShare: z.number().gt(0).max(1).nullable().default(0.2),
    })
    .default({ maxUsers: 50, maxShare: 0.2 }),
  cleanup: z
    .strictObject({
      enabled: z.boolean().default(false),
      /** Journal which users would be cleaned up and change nothing. On by default: turn it off after checking. */
      dryRun: z.boolean().default(true),
      action: z.enum(['suspend', 'delete']).default('suspend'),
      /** Users who never signed in this many days after creation. */
      neverSignedInDays: z.number().int().min(1).max(3650).default(30),
      cron: z.string().regex(CRON, 'must be a 5-field cron expression').default('17 3 * * *'),
      maxPagesPerRun: z.number().int().min(1).max(1000).default(20),
    })
    .optional(),
  stripe: z
    .strictObject({
      /** Per Stripe price ID: the Logto roles it grants and the plan name stamped in customData. */
      prices: z.record(
        z.string().min(1),
        z.strictObject({ roles: z.array(name).default([]), plan: z.string().min(1) }),
      ),
      /** Subscription statuses that grant the price's roles. */
      activeStatuses: z.array(z.string()).default(['active', 'trialing']),
      /** customData key holding `{customerId, plan, status, subscriptionId, updatedAt}`. */
      customDataKey: z.string().min(1).default('stripe'),
      /** Metadata field (on the subscription or checkout session) holding the Logto user ID. */
      userIdMetadataKey: z.string().min(1).default('logtoUserId'),
    })
    .optional(),
  github: z
    .strictObject({
      /** Per GitHub organization login: what membership in it grants in Logto. */
      organizations: z.record(
        z.string().min(1),
        z.strictObject({
          roles: z.array(name).default([]),
          organizationId: z.string().min(1).optional(),
          organizationRoles: z.array(name).default([]),
        }),
      ),
      /** The Logto social connector target holding GitHub identities. */
      connector: z.string().min(1).default('github'),
    })
    .optional(),
  /** Custom handlers made with `defineAutomation()`. */
  handlers: z.array(automationSchema).default([]),
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
    parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })),
  );
}
