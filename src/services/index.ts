import { waitUntil } from 'cloudflare:workers';
import { type ConfigResult, type LogtoConfig, parseLogtoConfig } from '../config';
import { createTokenCache, type TokenCache } from '../kv-token-cache';
import { createLogtoClient, type LogtoClient, PROJECT_USER_AGENT } from '../logto-client';

/** What a request handler needs, built once per isolate so the token and role caches live across requests. */
export interface Services {
  config: LogtoConfig;
  tokens: TokenCache;
  logto: LogtoClient;
}

/** Thrown when the configuration is incomplete or malformed; carries the variable name, never its value. */
export class ConfigError extends Error {
  readonly code = 'ERR_CONFIG';
  override readonly name = 'ConfigError';
  constructor(
    readonly variable: string,
    readonly reason: string,
  ) {
    super(`configuration error: ${variable} ${reason}`);
  }
}

export interface ServiceDeps {
  /** Outbound fetch; tests inject the Logto emulator here. */
  fetch?: typeof fetch;
  now?: () => number;
}

type Bindings = Pick<Env, 'TOKEN_CACHE'>;

/**
 * Returns the isolate's services for `env`, validating the configuration the first time it sees that `env`.
 * Throws {@link ConfigError} on bad configuration (logged once, by variable name only).
 */
export function createServiceProvider(deps: ServiceDeps = {}): (env: Bindings) => Services {
  let built: Built | undefined;
  return (env) => {
    if (built?.env !== env) {
      // Another env object with the same configuration keeps the isolate's caches (token in memory, roles).
      const parsed = parseLogtoConfig(env);
      const fingerprint = JSON.stringify(parsed);
      built = built?.fingerprint === fingerprint ? { ...built, env } : build(env, parsed, fingerprint, deps);
    }
    if ('error' in built) throw built.error;
    return built.services;
  };
}

type Built = { env: Bindings; fingerprint: string } & ({ services: Services } | { error: ConfigError });

function build(env: Bindings, parsed: ConfigResult, fingerprint: string, deps: ServiceDeps): Built {
  if (!parsed.ok) {
    const error = new ConfigError(parsed.variable, parsed.reason);
    console.error(error.message);
    return { env, fingerprint, error };
  }
  const { config } = parsed;
  const tokens = createTokenCache({
    ...config,
    kv: env.TOKEN_CACHE,
    fetch: deps.fetch,
    now: deps.now,
    skewSeconds: config.tokenExpirySkewSeconds,
    timeoutMs: config.apiTimeoutMs,
    userAgent: PROJECT_USER_AGENT,
    waitUntil,
  });
  const logto = createLogtoClient({
    endpoint: config.endpoint,
    tokens,
    fetch: deps.fetch,
    now: deps.now,
    timeoutMs: config.apiTimeoutMs,
    budget: config.rateBudget,
  });
  return { env, fingerprint, services: { config, tokens, logto } };
}
