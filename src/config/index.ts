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

export type ConfigResult = { ok: true; config: LogtoConfig } | ConfigFailure;

/** A variable that is wrong: its name and what is wrong with it (never its value). */
export type ConfigFailure = { ok: false; variable: string; reason: string };

/** Logto Cloud's advice: about 200 Management API requests per 10 s per tenant. */
const DEFAULT_RATE_BUDGET = '200/10s';

type RawEnv = Partial<Record<string, unknown>>;

/** A variable's trimmed string value ('' when unset or not a string). */
export const text = (env: object, name: string): string => {
  const value = (env as RawEnv)[name];
  return typeof value === 'string' ? value.trim() : '';
};

/** A comma list's items, trimmed, the empty ones dropped. */
export const list = (raw: string): string[] =>
  raw
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

/** Thrown by {@link check}; {@link configResult} turns it into a {@link ConfigFailure}. */
class Invalid {
  constructor(
    readonly variable: string,
    readonly reason: string,
  ) {}
}

/** Stops the parse unless `ok`, naming the variable and what it must be. */
export function check(ok: unknown, variable: string, reason: string): asserts ok {
  if (!ok) throw new Invalid(variable, reason);
}

/** Runs a parse made of {@link check}s: its configuration, or the failure of the first check that did not hold. */
export function configResult<C>(parse: () => C): { ok: true; config: C } | ConfigFailure {
  try {
    return { ok: true, config: parse() };
  } catch (error) {
    if (error instanceof Invalid) return { ok: false, variable: error.variable, reason: error.reason };
    throw error;
  }
}

/** A variable that must be set; `what` says what it holds. */
export function required(env: object, variable: string, what: string): string {
  const value = text(env, variable);
  check(value, variable, `is required: ${what}`);
  return value;
}

/** Hosts an http:// URL may name (a local Logto or receiver). */
const LOCAL_HOSTS = ['localhost', '127.0.0.1', '[::1]'];

/** The URL when `raw` is https, or http to this machine only; undefined otherwise. */
export function secureUrl(raw: string): URL | undefined {
  const url = URL.canParse(raw) ? new URL(raw) : undefined;
  const local = url?.protocol === 'http:' && LOCAL_HOSTS.includes(url.hostname);
  return url?.protocol === 'https:' || local ? url : undefined;
}

/** An http(s) origin: https, or http on localhost; no path (a trailing slash is fine), no query. */
const isEndpoint = (value: string): boolean => {
  const url = /^https?:\/\//i.test(value) ? secureUrl(value) : undefined;
  return url !== undefined && url.pathname.replace(/\/+$/, '') === '' && !url.search;
};

const TENANT = /^[a-z0-9]{1,32}$/;

/**
 * A whole number of `unit` in [min, max] ('' → fallback). With `off`, a value matching it is null (never), and the
 * message says `"off"` is accepted.
 */
export function integer(
  env: object,
  variable: string,
  fallback: number,
  min: number,
  max: number,
  unit: string,
): number;
export function integer(
  env: object,
  variable: string,
  fallback: number,
  min: number,
  max: number,
  unit: string,
  off: RegExp,
): number | null;
export function integer(
  env: object,
  variable: string,
  fallback: number,
  min: number,
  max: number,
  unit: string,
  off?: RegExp,
): number | null {
  const raw = text(env, variable);
  if (!raw) return fallback;
  if (off?.test(raw)) return null;
  const value = Number(raw);
  check(
    /^\d+$/.test(raw) && value >= min && value <= max,
    variable,
    `must be a whole number of ${unit}, ${min}–${max}${off ? ', or "off"' : ''}`,
  );
  return value;
}

function parseAlgorithms(raw: string): JwtAlgorithm[] | undefined {
  if (!raw) return ['ES384'];
  const list = raw.split(',').map((item) => item.trim());
  const valid = list.every((item) => (SUPPORTED_JWT_ALGORITHMS as readonly string[]).includes(item));
  return valid ? (list as JwtAlgorithm[]) : undefined;
}

function parseRateBudget(raw: string): LogtoConfig['rateBudget'] | undefined {
  if (raw.toLowerCase() === 'off') return null;
  const match = /^(\d+)\s*\/\s*(\d+)s$/.exec(raw || DEFAULT_RATE_BUDGET);
  if (!match) return undefined;
  const requests = Number(match[1]);
  const seconds = Number(match[2]);
  return requests > 0 && seconds > 0 ? { requests, windowMs: seconds * 1000 } : undefined;
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
  return configResult(() => {
    const tenant = text(env, 'LOGTO_TENANT_ID');
    const endpointRaw = text(env, 'LOGTO_ENDPOINT');
    check(
      tenant || endpointRaw,
      'LOGTO_TENANT_ID',
      'set LOGTO_TENANT_ID (Logto Cloud) or LOGTO_ENDPOINT (self-hosted)',
    );
    check(
      !tenant || TENANT.test(tenant),
      'LOGTO_TENANT_ID',
      'must be the lowercase tenant ID shown in Logto Console, e.g. "abc123"',
    );
    check(
      !endpointRaw || isEndpoint(endpointRaw),
      'LOGTO_ENDPOINT',
      'must be an https:// origin without path or query (http:// only for localhost)',
    );
    const endpoint = (endpointRaw || `https://${tenant}.logto.app`).replace(/\/+$/, '');
    const appId = required(env, 'LOGTO_M2M_APP_ID', 'the ID of your machine-to-machine app');
    const appSecret = required(
      env,
      'LOGTO_M2M_APP_SECRET',
      'a secret (.dev.vars locally, `wrangler secret put` deployed)',
    );
    const resource = text(env, 'LOGTO_MANAGEMENT_API_RESOURCE');
    check(
      !resource || URL.canParse(resource),
      'LOGTO_MANAGEMENT_API_RESOURCE',
      'must be an absolute URL such as https://default.logto.app/api',
    );
    const algorithms = parseAlgorithms(text(env, 'LOGTO_JWT_ALGORITHMS'));
    check(
      algorithms,
      'LOGTO_JWT_ALGORITHMS',
      `must be a comma list of ${SUPPORTED_JWT_ALGORITHMS.join(', ')}`,
    );
    const tokenExpirySkewSeconds = integer(env, 'TOKEN_EXPIRY_SKEW_SECONDS', 60, 0, 3000, 'seconds');
    const apiTimeoutMs = integer(env, 'LOGTO_API_TIMEOUT_MS', 10_000, 100, 120_000, 'milliseconds');
    const rateBudget = parseRateBudget(text(env, 'LOGTO_RATE_BUDGET'));
    check(
      rateBudget !== undefined,
      'LOGTO_RATE_BUDGET',
      'must look like "200/10s" (requests per window), or "off"',
    );
    return {
      mode: tenant ? 'cloud' : 'self-hosted',
      endpoint,
      issuer: `${endpoint}/oidc`,
      resource: resource || (tenant ? `https://${tenant}.logto.app/api` : OSS_MANAGEMENT_API_RESOURCE),
      appId,
      appSecret,
      algorithms,
      tokenExpirySkewSeconds,
      apiTimeoutMs,
      rateBudget,
    };
  });
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
