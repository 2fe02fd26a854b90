import * as v from 'valibot';
import type { Automation, AutomationInput, NewUser } from '../automations';
import {
  booleanValue,
  finiteNumber,
  type Issue,
  int,
  matches,
  oneOf,
  strictObject,
  validate,
} from '../validation';

/**
 * The recipes configuration (`automations.config.ts`): typed for editor completion, validated when the Worker
 * starts — a bad field stops `npm run dev`/`npm test`/the deployment with a message naming it.
 */

const CRON = /^(\S+\s+){4}\S+$/;
export const nonEmpty = v.pipe(v.string(), v.minLength(1));
const name = v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(128));
const names = v.pipe(v.array(name), v.minLength(1));
export const roleNames = v.optional(v.array(name), []);
const cron = (fallback: string) =>
  v.optional(v.pipe(v.string(), matches(CRON, 'must be a 5-field cron expression')), fallback);
/** A whole number in [min, max], `fallback` when absent. */
const between = (min: number, max: number, fallback: number) =>
  v.optional(v.pipe(int, v.minValue(min), v.maxValue(max)), fallback);
const flag = (fallback: boolean) => v.optional(booleanValue, fallback);
const isFunction = (value: unknown) => typeof value === 'function';
const predicate = v.custom<(user: NewUser, input: AutomationInput) => boolean>(
  isFunction,
  'must be a function (user, input) => boolean',
);

/** When a rule matches: every condition given must hold (AND); give at least one. */
const ruleWhen = v.pipe(
  strictObject({
    /** The user's primary email is at one of these domains (only when the email is verified; see README). */
    emailDomains: v.optional(
      v.pipe(
        v.array(
          v.pipe(
            v.string(),
            v.trim(),
            v.toLowerCase(),
            matches(/^[a-z0-9.-]+\.[a-z]{2,}$/, 'must be a domain like example.com'),
          ),
        ),
        v.minLength(1),
      ),
    ),
    /** The user has an identity from one of these social/SSO connectors (`identities` keys, e.g. `github`). */
    connectors: v.optional(names),
    /** The user signed up through one of these applications (Logto application IDs). */
    applications: v.optional(names),
    /** Your own test. */
    test: v.optional(predicate),
  }),
  v.check(
    (when) => (when.emailDomains ?? when.connectors ?? when.applications ?? when.test) !== undefined,
    'give at least one condition (emailDomains, connectors, applications or test)',
  ),
);

/**
 * Act again when the reconciliation's filter scan finds the user out of policy (the role or membership was removed
 * since): the rule is enforced once per pass. Default false: done once, an admin's later removal stands.
 */
const enforce = flag(false);

const ruleName = v.pipe(
  v.string(),
  matches(
    /^[a-z0-9][a-z0-9-]{0,62}$/,
    'must be lowercase letters, digits and dashes (it names the action in the journal)',
  ),
);

/** Rules, their names unique. */
const rules = <S extends v.GenericSchema<unknown, { name: string }>>(rule: S) =>
  v.pipe(
    v.optional(v.array(rule), []),
    v.check(
      (list) => new Set(list.map((item) => item.name)).size === list.length,
      'rule names must be unique',
    ),
  );

const automationSchema = v.custom<Automation>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Automation).name === 'string' &&
    typeof (value as Automation).run === 'function' &&
    typeof (value as Automation).wants === 'function' &&
    Array.isArray((value as Automation).logtoEvents),
  'must be made with defineAutomation()',
);

/**
 * A recipe imported into automations.config.ts (`stripe: stripe({ … })`) instead of written as data: its code, its
 * options' schema and its dependencies are in the deployed bundle only when it is imported.
 */
export interface ImportedRecipe<K extends string = string> {
  readonly recipe: K;
  readonly automations: readonly Automation[];
}

const imported = <K extends string>(kind: K) =>
  v.custom<ImportedRecipe<K>>(
    (value) =>
      typeof value === 'object' &&
      value !== null &&
      (value as ImportedRecipe).recipe === kind &&
      Array.isArray((value as ImportedRecipe).automations),
    `must be made with ${kind}({ … }), imported from './src/recipes' (only imported recipes are deployed)`,
  );

export const automationConfigSchema = strictObject({
  /** Journal what would be done; change nothing in Logto. */
  dryRun: flag(false),
  /** Treat emails set through the Management API as verified for `emailDomains` rules (default: only sign-ups). */
  trustApiEmails: flag(false),
  personalOrganization: v.optional(
    strictObject({
      /**
       * Name templates tried in order; the first whose placeholders are all known wins. Placeholders: `{name}`,
       * `{username}`, `{email}`, `{emailLocal}` (the part before @), `{userId}`.
       */
      name: v.optional(
        v.union([nonEmpty, v.pipe(v.array(nonEmpty), v.minLength(1))], 'matches none of the accepted forms'),
        ["{name}'s workspace", "{username}'s workspace", "{emailLocal}'s workspace", 'Workspace {userId}'],
      ),
      description: v.optional(v.pipe(v.string(), v.maxLength(256))),
      /** Organization roles (by name) the user gets in their organization. */
      organizationRoles: roleNames,
      /** The customData key where the organization ID is recorded (checked before creating). */
      customDataKey: v.optional(nonEmpty, 'personalOrganizationId'),
      /** Also for users created through the Management API (default: sign-ups only). */
      includeApiUsers: flag(false),
    }),
  ),
  rolesByRule: rules(strictObject({ name: ruleName, roles: names, when: ruleWhen, enforce })),
  organizationsByRule: rules(
    strictObject({
      name: ruleName,
      organizationId: nonEmpty,
      organizationRoles: roleNames,
      when: ruleWhen,
      enforce,
    }),
  ),
  stamps: v.optional(
    strictObject({
      /** Top-level customData key the stamp is merged under. */
      key: v.optional(nonEmpty, 'signUp'),
      /** Built-in fields: how the user came (`source`), first application, Logto's creation time, stamp time. */
      fields: v.optional(
        v.array(oneOf(['source', 'applicationId', 'createdAt', 'stampedAt', 'connectors'])),
        ['source', 'applicationId', 'createdAt', 'stampedAt'],
      ),
      /** Your own fields (JSON values), computed from the new user. */
      extra: v.optional(
        v.custom<(user: NewUser) => Record<string, unknown>>(
          isFunction,
          'must be a function (user) => object',
        ),
      ),
    }),
  ),
  reconcile: v.optional(
    strictObject({
      enabled: flag(true),
      /** Must also be listed in wrangler.toml `[triggers] crons`. */
      cron: cron('*/15 * * * *'),
      /** On the very first sweep, look back this far (users created before are left alone). */
      initialLookbackMinutes: between(0, 525_600, 60),
      /** Re-read this much before the cursor (clock skew between Logto and the Worker). */
      overlapMinutes: between(0, 1440, 5),
      /** Pages of 100 users per cron invocation; the next invocation resumes. */
      maxPagesPerRun: between(1, 1000, 20),
      /**
       * Every N hours, also read the users Logto's own filters say are out of policy — without a sign-up role
       * (`excludeRoleId`), a rule's role, or a rule's organization (`excludeOrganizationId`) — across the whole
       * tenant, not only since the cursor. An action done once is not redone (a role an admin removed stays
       * removed). 0: off.
       */
      filterEveryHours: between(0, 720, 24),
    }),
    {},
  ),
  /**
   * Brakes on mass change: a reconciliation run, a cleanup run or a bulk replay that would act on more users than
   * `maxUsers`, or (from 10 users) on more than `maxShare` of the tenant's users, acts on none of them: it is held
   * with a preview until an operator approves it (`npm run ops -- approve <batch>` or the admin API).
   */
  brakes: v.optional(
    strictObject({
      maxUsers: between(1, 100_000, 50),
      /** A share of the tenant's users (0–1); null: no share limit. */
      maxShare: v.optional(
        v.nullable(
          v.pipe(
            finiteNumber,
            // A check, not valibot's gtValue: its code would be bundled for this one field.
            v.check((share) => share > 0, 'must be more than 0'),
            v.maxValue(1),
          ),
        ),
        0.2,
      ),
    }),
    {},
  ),
  cleanup: v.optional(
    strictObject({
      enabled: flag(false),
      /** Journal which users would be cleaned up and change nothing. On by default: turn it off after checking. */
      dryRun: flag(true),
      action: v.optional(oneOf(['suspend', 'delete']), 'suspend'),
      /** Users who never signed in this many days after creation. */
      neverSignedInDays: between(1, 3650, 30),
      cron: cron('17 3 * * *'),
      maxPagesPerRun: between(1, 1000, 20),
    }),
  ),
  /** The Stripe recipe, when imported: `stripe: stripe({ prices: … })` (src/recipes/stripe.ts). */
  stripe: v.optional(imported('stripe')),
  /** The GitHub recipe, when imported: `github: github({ organizations: … })` (src/recipes/github.ts). */
  github: v.optional(imported('github')),
  /** Custom handlers made with `defineAutomation()`. */
  handlers: v.optional(v.array(automationSchema), []),
});

/** What you write in `automations.config.ts` (defaults filled in when it is validated). */
export type AutomationConfigInput = v.InferInput<typeof automationConfigSchema>;
/** The validated configuration. */
export type AutomationConfig = v.InferOutput<typeof automationConfigSchema>;

/** Typed helper for `automations.config.ts`: gives editor completion and returns its argument. */
export const defineConfig = (config: AutomationConfigInput): AutomationConfigInput => config;

/** Thrown when `automations.config.ts` is invalid; the message names the field. */
export class AutomationConfigError extends Error {
  override readonly name = 'AutomationConfigError';
  constructor(readonly issues: Issue[]) {
    super(
      `automations.config.ts is invalid:\n${issues.map((issue) => `  - ${issue.path || '(root)'}: ${issue.message}`).join('\n')}`,
    );
  }
}

/**
 * Validates an imported recipe's options and fills in their defaults (when `automations.config.ts` is loaded, like
 * the rest); throws {@link AutomationConfigError} naming each bad field under the recipe's key.
 */
export function recipeOptions<S extends v.GenericSchema>(
  key: string,
  schema: S,
  input: unknown,
): v.InferOutput<S> {
  const parsed = validate(schema, input);
  if (!parsed.ok)
    throw new AutomationConfigError(
      parsed.issues.map((issue) => ({ ...issue, path: issue.path ? `${key}.${issue.path}` : key })),
    );
  return parsed.value;
}

/** Validates the configuration and fills in the defaults; throws {@link AutomationConfigError} naming each bad field. */
export function parseAutomationConfig(input: unknown): AutomationConfig {
  const parsed = validate(automationConfigSchema, input ?? {});
  if (!parsed.ok) throw new AutomationConfigError(parsed.issues);
  const handlerNames = parsed.value.handlers.map((handler) => handler.name);
  const duplicate = handlerNames.find((handlerName, i) => handlerNames.indexOf(handlerName) !== i);
  if (duplicate)
    throw new AutomationConfigError([{ path: 'handlers', message: `two handlers are named "${duplicate}"` }]);
  return parsed.value;
}
