import { waitUntil } from 'cloudflare:workers';
import { type Automation, automationsFor } from '../automations';
import { type ConfigResult, type LogtoConfig, parseLogtoConfig } from '../config';
import { type PipelineConfig, parsePipelineConfig } from '../config/pipeline';
import { createJournal, type Journal } from '../journal';
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
  /** Inline waits of the token cache and the client (retry backoff, short Retry-After). */
  sleep?: (ms: number) => Promise<void>;
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
    sleep: deps.sleep,
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
    sleep: deps.sleep,
    timeoutMs: config.apiTimeoutMs,
    budget: config.rateBudget,
  });
  return { env, fingerprint, services: { config, tokens, logto } };
}

/** What the webhook pipeline needs: its configuration, the journal and the enabled automations. */
export interface Pipeline {
  config: PipelineConfig;
  journal: Journal;
  automations: Automation[];
}

type PipelineBindings = Pick<Env, 'JOURNAL'>;

/**
 * Returns the pipeline for `env`, validating LOGTO_WEBHOOK_SIGNING_KEY and friends the first time it sees that `env`.
 * Independent of the Logto M2M configuration: webhooks are verified and recorded even when Management API access is
 * misconfigured (their runs then fail visibly and can be replayed). Throws {@link ConfigError}.
 */
export function createPipelineProvider(
  deps: Pick<ServiceDeps, 'now'> = {},
): (env: PipelineBindings) => Pipeline {
  let built:
    | { env: PipelineBindings; fingerprint: string; pipeline?: Pipeline; error?: ConfigError }
    | undefined;
  return (env) => {
    if (built?.env !== env) {
      const parsed = parsePipelineConfig(env);
      const fingerprint = JSON.stringify(parsed);
      if (built?.fingerprint === fingerprint && built.pipeline) {
        built = {
          ...built,
          env,
          pipeline: { ...built.pipeline, journal: createJournal(env.JOURNAL, deps.now) },
        };
      } else if (parsed.ok) {
        const pipeline = {
          config: parsed.config,
          journal: createJournal(env.JOURNAL, deps.now),
          automations: automationsFor(parsed.config),
        };
        built = { env, fingerprint, pipeline };
      } else {
        const error = new ConfigError(parsed.variable, parsed.reason);
        console.error(error.message);
        built = { env, fingerprint, error };
      }
    }
    if (built.error) throw built.error;
    return built.pipeline as Pipeline;
  };
}
