/**
 * Worker configuration, validated once from the environment. A bad value yields a Result naming the
 * variable and what is wrong with it — never its value (some are secrets) and never a stack trace.
 */

/** JWT algorithms a Logto tenant can sign with (ES384 is Logto's default key type). */
export const SUPPORTED_JWT_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'RS256'] as const;
export type JwtAlgorithm = (typeof SUPPORTED_JWT_ALGORITHMS)[number];

/** The Management API indicator every self-hosted (OSS) Logto uses, whatever its endpoint. */
export const OSS_MANAGEMENT_API_RESOURCE = 'https://default.logto.app/api';

export interface LogtoConfig {
  /** `cloud` when LOGTO_TENANT_ID is set, otherwise `self-hosted`. */
  mode: 'cloud' | 'self-hosted';
  /** Origin of the Logto instance, no trailing slash, e.g. `https://abc123.logto.app`. */
  endpoint: string;
  /** Expected `iss` of tokens: `{endpoint}/oidc`. */
  issuer: string;
  /** Management API resource indicator; also the expected `aud`. */
  resource: string;
  appId: string;
  appSecret: string;
  algorithms: JwtAlgorithm[];
  tokenExpirySkewSeconds: number;
  apiTimeoutMs: number;
  /** Management API calls per window for the whole deployment; null when pacing is off (`LOGTO_RATE_BUDGET=off`). */
  rateBudget: { requests: number; windowMs: number } | null;
}

export type ConfigResult =
  | { ok: true; config: LogtoConfig }
  | { ok: false; variable: string; reason: string };

const DEFAULT_SKEW_SECONDS = 60;
const DEFAULT_TIMEOUT_MS = 10_000;
/** Logto Cloud's advice: about 200 Management API requests per 10 s per tenant. */
const DEFAULT_RATE_BUDGET = '200/10s';

type RawEnv = Partial<Record<string, unknown>>;

/** A variable's trimmed string value ('' when unset or not a string). */
export const text = (env: object, name: string): string => {
  const value = (env as RawEnv)[name];
  return typeof value === 'string' ? value.trim() : '';
};

const fail = (variable: string, reason: string): ConfigResult => ({ ok: false, variable, reason });

/** `new URL(value)`, or undefined when it does not parse. */
const urlOf = (value: string): URL | undefined => {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
};

/** An http(s) origin: https, or http on localhost; no path (a trailing slash is fine), no query. */
const isEndpoint = (value: string): boolean => {
  const url = /^https?:\/\//i.test(value) ? urlOf(value) : undefined;
  const local = url !== undefined && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  return (
    url !== undefined &&
    (url.protocol === 'https:' || local) &&
    url.pathname.replace(/\/+$/, '') === '' &&
    !url.search
  );
};

const TENANT = /^[a-z0-9]{1,32}$/;

function parseAlgorithms(raw: string): JwtAlgorithm[] | undefined {
  if (!raw) return ['ES384'];
  const list = raw.split(',').map((item) => item.trim());
  const valid = list.every((item) => (SUPPORTED_JWT_ALGORITHMS as readonly string[]).includes(item));
  return valid && list.length > 0 ? (list as JwtAlgorithm[]) : undefined;
}

/** A whole number in [min, max] ('' → fallback); undefined when malformed or out of range. */
export function parseInteger(raw: string, fallback: number, min: number, max: number): number | undefined {
  if (!raw) return fallback;
  if (!/^\d+$/.test(raw)) return undefined;
  const value = Number(raw);
  return value >= min && value <= max ? value : undefined;
}

function parseRateBudget(raw: string): LogtoConfig['rateBudget'] | undefined {
  if (raw.toLowerCase() === 'off') return null;
  const match = /^(\d+)\s*\/\s*(\d+)s$/.exec(raw || DEFAULT_RATE_BUDGET);
  if (!match) return undefined;
  const requests = Number(match[1]);
  const seconds = Number(match[2]);
  return requests > 0 && seconds > 0 ? { requests, windowMs: seconds * 1000 } : undefined;
}

function resolveEndpoint(
  env: object,
): ConfigResult | { mode: LogtoConfig['mode']; endpoint: string; tenant: string } {
  const tenant = text(env, 'LOGTO_TENANT_ID');
  const endpointRaw = text(env, 'LOGTO_ENDPOINT');
  if (!tenant && !endpointRaw) {
    return fail('LOGTO_TENANT_ID', 'set LOGTO_TENANT_ID (Logto Cloud) or LOGTO_ENDPOINT (self-hosted)');
  }
  if (tenant && !TENANT.test(tenant)) {
    return fail('LOGTO_TENANT_ID', 'must be the lowercase tenant ID shown in Logto Console, e.g. "abc123"');
  }
  if (endpointRaw && !isEndpoint(endpointRaw)) {
    return fail(
      'LOGTO_ENDPOINT',
      'must be an https:// origin without path or query (http:// only for localhost)',
    );
  }
  const endpoint = (endpointRaw || `https://${tenant}.logto.app`).replace(/\/+$/, '');
  return { mode: tenant ? 'cloud' : 'self-hosted', endpoint, tenant };
}

/**
 * Reads and validates the Logto configuration from a Worker `env`.
 *
 * - Logto Cloud: `LOGTO_TENANT_ID` → endpoint `https://{tenant}.logto.app`, resource `https://{tenant}.logto.app/api`.
 *   With `LOGTO_ENDPOINT` as well (a custom domain), tokens and API calls go to that endpoint.
 * - Self-hosted: `LOGTO_ENDPOINT` only → resource `https://default.logto.app/api`.
 * - `LOGTO_MANAGEMENT_API_RESOURCE` overrides the resource in both cases.
 */
export function parseLogtoConfig(env: object): ConfigResult {
  const target = resolveEndpoint(env);
  if ('ok' in target) return target;
  const appId = text(env, 'LOGTO_M2M_APP_ID');
  if (!appId) return fail('LOGTO_M2M_APP_ID', 'is required: the ID of your machine-to-machine app');
  const appSecret = text(env, 'LOGTO_M2M_APP_SECRET');
  if (!appSecret) {
    return fail(
      'LOGTO_M2M_APP_SECRET',
      'is required: a secret (.dev.vars locally, `wrangler secret put` deployed)',
    );
  }
  const resourceOverride = text(env, 'LOGTO_MANAGEMENT_API_RESOURCE');
  if (resourceOverride && !urlOf(resourceOverride)) {
    return fail(
      'LOGTO_MANAGEMENT_API_RESOURCE',
      'must be an absolute URL such as https://default.logto.app/api',
    );
  }
  const algorithms = parseAlgorithms(text(env, 'LOGTO_JWT_ALGORITHMS'));
  if (!algorithms)
    return fail('LOGTO_JWT_ALGORITHMS', `must be a comma list of ${SUPPORTED_JWT_ALGORITHMS.join(', ')}`);
  const skew = parseInteger(text(env, 'TOKEN_EXPIRY_SKEW_SECONDS'), DEFAULT_SKEW_SECONDS, 0, 3000);
  if (skew === undefined)
    return fail('TOKEN_EXPIRY_SKEW_SECONDS', 'must be a whole number of seconds, 0–3000');
  const timeout = parseInteger(text(env, 'LOGTO_API_TIMEOUT_MS'), DEFAULT_TIMEOUT_MS, 100, 120_000);
  if (timeout === undefined)
    return fail('LOGTO_API_TIMEOUT_MS', 'must be a whole number of milliseconds, 100–120000');
  const rateBudget = parseRateBudget(text(env, 'LOGTO_RATE_BUDGET'));
  if (rateBudget === undefined)
    return fail('LOGTO_RATE_BUDGET', 'must look like "200/10s" (requests per window), or "off"');
  const cloudResource = `https://${target.tenant}.logto.app/api`;
  return {
    ok: true,
    config: {
      mode: target.mode,
      endpoint: target.endpoint,
      issuer: `${target.endpoint}/oidc`,
      resource: resourceOverride || (target.mode === 'cloud' ? cloudResource : OSS_MANAGEMENT_API_RESOURCE),
      appId,
      appSecret,
      algorithms,
      tokenExpirySkewSeconds: skew,
      apiTimeoutMs: timeout,
      rateBudget,
    },
  };
}

export {
  type AlertConfig,
  type AlertConfigResult,
  DEFAULT_ALERT_BACKLOG_THRESHOLD,
  parseAlertConfig,
} from './alerts';
export {
  type PipelineConfig,
  type PipelineConfigResult,
  parseAdminSettings,
  parsePipelineConfig,
} from './pipeline';
export {
  DEFAULT_DELETE_AFTER_DAYS,
  DEFAULT_REDACT_AFTER_DAYS,
  MIN_DELETE_AFTER_DAYS,
  parseRetentionConfig,
  type RetentionConfig,
  type RetentionConfigResult,
} from './retention';
