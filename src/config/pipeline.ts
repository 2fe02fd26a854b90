import { type ConfigFailure, check, configResult, integer, list, required, text } from '.';

/**
 * Configuration of the webhook pipeline (ingress, automations, admin API), validated separately from the Logto
 * M2M configuration: the Worker can verify and record webhooks even while its Management API access is broken.
 * A bad value yields a Result naming the variable — never its value.
 */

export interface PipelineConfig {
  /** Current signing key first, then the one being rotated out (if set). */
  signingKeys: string[];
  /** Oldest accepted `createdAt`, as an age in ms (default 15 min). */
  maxAgeMs: number;
  /** How far in the future `createdAt` may be (clock skew), in ms: the smaller of 5 min and `maxAgeMs`. */
  maxFutureMs: number;
  /** Role names the built-in sign-up automation assigns (empty: the automation is off). */
  signupRoleNames: string[];
  /** Admin API access; undefined when ADMIN_API_RESOURCE is not set (the admin API then answers 503). */
  admin?: { resource: string; appIds: string[] };
  /** Signing secrets per callback provider (several while rotating); a provider without one answers 404. */
  callbacks: { stripe?: string[]; github?: string[]; 'standard-webhooks'?: string[] };
  /**
   * Recovery from Logto's hook log: the hooks to read (LOGTO_HOOK_IDS), or those whose endpoint is this Worker's
   * (WORKER_URL). Undefined when neither is set (recovery off).
   */
  recovery?: { hookIds: string[]; workerUrl?: string };
}

export type PipelineConfigResult = { ok: true; config: PipelineConfig } | ConfigFailure;

const MAX_FUTURE_MS = 5 * 60_000;

/** ADMIN_API_RESOURCE and ADMIN_APP_IDS, checked (a parse step of {@link configResult}). */
function adminSettings(env: object): PipelineConfig['admin'] {
  const resource = text(env, 'ADMIN_API_RESOURCE');
  const appIds = list(text(env, 'ADMIN_APP_IDS'));
  check(
    !resource || URL.canParse(resource),
    'ADMIN_API_RESOURCE',
    'must be the API identifier (an absolute URL) of an API resource in Logto',
  );
  check(
    !resource || appIds.length > 0,
    'ADMIN_APP_IDS',
    'must list the M2M app IDs allowed to call the admin API',
  );
  return resource ? { resource, appIds } : undefined;
}

/**
 * ADMIN_API_RESOURCE and ADMIN_APP_IDS alone: the admin API checks a caller with these (and the Logto endpoint)
 * before it reads anything else. `admin` is undefined when ADMIN_API_RESOURCE is not set (the admin API is off).
 */
export function parseAdminSettings(
  env: object,
): { ok: true; admin?: { resource: string; appIds: string[] } } | ConfigFailure {
  const parsed = configResult(() => adminSettings(env));
  return parsed.ok ? { ok: true, admin: parsed.config } : parsed;
}

/**
 * Reads LOGTO_WEBHOOK_SIGNING_KEY(_PREVIOUS), WEBHOOK_MAX_AGE_SECONDS, SIGNUP_ROLE_NAMES, ADMIN_API_RESOURCE,
 * ADMIN_APP_IDS, LOGTO_HOOK_IDS, WORKER_URL and the callback secrets STRIPE_WEBHOOK_SECRET, GITHUB_WEBHOOK_SECRET, STANDARD_WEBHOOK_SECRET.
 */
export function parsePipelineConfig(env: object): PipelineConfigResult {
  return configResult(() => {
    const current = required(
      env,
      'LOGTO_WEBHOOK_SIGNING_KEY',
      'the signing key of your Logto webhook (Console → Webhooks → Signing key), set as a secret',
    );
    const previous = text(env, 'LOGTO_WEBHOOK_SIGNING_KEY_PREVIOUS');
    const maxAgeMs = integer(env, 'WEBHOOK_MAX_AGE_SECONDS', 900, 30, 86_400, 'seconds') * 1000;
    const roleNames = list(text(env, 'SIGNUP_ROLE_NAMES'));
    check(
      roleNames.every((name) => name.length <= 128),
      'SIGNUP_ROLE_NAMES',
      'must be a comma list of role names (each at most 128 characters)',
    );
    const admin = adminSettings(env);
    const hookIds = list(text(env, 'LOGTO_HOOK_IDS'));
    const workerUrl = text(env, 'WORKER_URL').replace(/\/+$/, '');
    check(
      !workerUrl || /^https?:\/\/[^/]+$/.test(workerUrl),
      'WORKER_URL',
      'must be the origin this Worker is reached at, e.g. https://automations.example.com',
    );
    const standard = list(text(env, 'STANDARD_WEBHOOK_SECRET'));
    check(
      standard.every((secret) => /^(whsec_)?[A-Za-z0-9+/]+={0,2}$/.test(secret)),
      'STANDARD_WEBHOOK_SECRET',
      'must be whsec_<base64> (comma list while rotating)',
    );
    return {
      signingKeys: previous ? [current, previous] : [current],
      maxAgeMs,
      maxFutureMs: Math.min(MAX_FUTURE_MS, maxAgeMs),
      signupRoleNames: roleNames,
      admin,
      callbacks: {
        stripe: list(text(env, 'STRIPE_WEBHOOK_SECRET')),
        github: list(text(env, 'GITHUB_WEBHOOK_SECRET')),
        'standard-webhooks': standard,
      },
      recovery:
        hookIds.length > 0 || workerUrl ? { hookIds, ...(workerUrl ? { workerUrl } : {}) } : undefined,
    };
  });
}
