import { AppError } from '../errors';
/**
 * The composition root: the one place that turns a Worker `env` into the objects the handlers, crons and Workflow
 * runs use — configuration, the token cache, the Management API client (paced by the tenant's governor), the
 * journal, the automations and the enqueue path — once per isolate. Per-isolate state here is values only (see the
 * runtime rule in docs/architecture.md); Durable Object stubs are made per call, never kept.
 */

import { waitUntil } from 'cloudflare:workers';
import type { Automation, AutomationInput } from '../automations';
import { type LogtoConfig, type PipelineConfig, parseLogtoConfig, parsePipelineConfig } from '../config';
import { createBrokerClient, createGovernorClient, type GovernorStats, governorNameOf } from '../governor';
import { createJournal, type Journal } from '../journal';
import { createTokenCache, type TokenCache } from '../kv-token-cache';
import { log } from '../log';
import { createLogtoClient, type LogtoClient, PROJECT_USER_AGENT } from '../logto-client';
import {
  claimsBeforeStart,
  createEnqueue,
  type Enqueue,
  type PlannedAutomation,
  planFor,
  STARTER_NAME,
  type StartPlanner,
  WAKE_EVERY_MS,
  type WakeOptions,
} from '../pipeline';
import { type AutomationConfig, automationsFromConfig, parseAutomationConfig } from '../recipes';
import { inputOf } from '../sources';

/** What a request handler needs, built once per isolate so the token and role caches live across requests. */
export interface Services {
  config: LogtoConfig;
  tokens: TokenCache;
  logto: LogtoClient;
  /** The tenant's governor: its window and token state (health checks, benchmarks). */
  governorStats(): Promise<GovernorStats>;
}

/** Thrown when the configuration is incomplete or malformed; carries the variable name, never its value. */
export class ConfigError extends AppError {
  override readonly name = 'ConfigError';
  constructor(variable: string, reason: string) {
    // 503, not 500: the Worker cannot serve until the operator fixes a variable (and a retrying sender retries).
    super('config', `configuration error: ${variable} ${reason}`, {
      httpStatus: 503,
      publicCode: 'configuration_error',
      detail: { variable, reason },
    });
  }
}

export interface ServiceDeps {
  /** Outbound fetch; tests inject the Logto emulator here. */
  fetch?: typeof fetch;
  now?: () => number;
  /** Inline waits of the token cache and the client (retry backoff, short Retry-After). */
  sleep?: (ms: number) => Promise<void>;
  /** The validated recipes (`automations.config.ts`); read on each use so tests can switch them. */
  recipes?: () => AutomationConfig;
}

const NO_RECIPES = parseAutomationConfig({});

type Bindings = Pick<Env, 'TOKEN_CACHE' | 'GOVERNOR'>;

/**
 * One value per isolate built from a validated configuration: `parse` runs when the runtime hands a new `env`
 * object; with `keep` (the default), the same configuration keeps the built value (and its caches), otherwise the
 * value is built again for the new object's bindings; a changed configuration always rebuilds. A bad configuration becomes a
 * {@link ConfigError}, logged once by variable name and thrown on every call.
 */
function perIsolate<E, C, V>(
  parse: (env: E) => { ok: true; config: C } | { ok: false; variable: string; reason: string },
  build: (env: E, config: C) => V,
  keep = true,
): (env: E) => V {
  let built: { env: E; fingerprint: string; value?: V; error?: ConfigError } | undefined;
  return (env) => {
    if (built?.env !== env) {
      const parsed = parse(env);
      const fingerprint = JSON.stringify(parsed);
      const same = built?.fingerprint === fingerprint;
      if (parsed.ok) {
        built = { env, fingerprint, value: same && keep ? built?.value : build(env, parsed.config) };
      } else {
        const { variable, reason } = parsed;
        if (!same) log('error', 'config.invalid', { variable, reason });
        built = { env, fingerprint, error: new ConfigError(variable, reason) };
      }
    }
    if (built.error) throw built.error;
    return built.value as V;
  };
}

/**
 * Returns the isolate's services for `env`, validating the configuration the first time it sees that `env`. Another
 * env object with the same configuration keeps the isolate's caches (token in memory, roles).
 * Throws {@link ConfigError} on bad configuration (logged once, by variable name only).
 */
export function createServiceProvider(deps: ServiceDeps = {}): (env: Bindings) => Services {
  return perIsolate(parseLogtoConfig, (env: Bindings, config: LogtoConfig) => {
    const namespace = env.GOVERNOR;
    const governor = () => namespace.get(namespace.idFromName(governorNameOf(config.endpoint)));
    const tokens = createTokenCache({
      ...config,
      kv: env.TOKEN_CACHE,
      broker: createBrokerClient(governor, config),
      fetch: deps.fetch,
      now: deps.now,
      skewSeconds: config.tokenExpirySkewSeconds,
      waitUntil,
    });
    const logto = createLogtoClient({
      endpoint: config.endpoint,
      tokens,
      fetch: deps.fetch,
      now: deps.now,
      sleep: deps.sleep,
      timeoutMs: config.apiTimeoutMs,
      governor: config.rateBudget ? createGovernorClient(governor, config.rateBudget) : undefined,
      userAgent: PROJECT_USER_AGENT,
    });
    return { config, tokens, logto, governorStats: () => governor().stats() };
  });
}

/** What the webhook pipeline needs: its configuration, the journal, the enqueue path and the enabled automations. */
export interface Pipeline {
  config: PipelineConfig;
  journal: Journal;
  /** Record → claim → start: the one way work enters the engine. */
  enqueue: Enqueue;
  /** The recipes (`automations.config.ts`). */
  recipes: AutomationConfig;
  /** Every enabled automation, built from the recipes and SIGNUP_ROLE_NAMES. */
  automations: Automation[];
  /** Dry-run: runs journal what they would do and change nothing. */
  dryRun: boolean;
  /** The automations that want `input`, with their action keys ({@link planFor} with this pipeline's settings). */
  plan(input: AutomationInput): PlannedAutomation[];
}

type PipelineBindings = Pick<Env, 'JOURNAL' | 'STARTER'>;

/**
 * Returns the pipeline for `env`, validating LOGTO_WEBHOOK_SIGNING_KEY and friends the first time it sees that `env`.
 * Independent of the Logto M2M configuration: webhooks are verified and recorded even when Management API access is
 * misconfigured (their runs then fail visibly and can be replayed). Throws {@link ConfigError}.
 */
export function createPipelineProvider(
  deps: Pick<ServiceDeps, 'now' | 'recipes'> = {},
): (env: PipelineBindings) => Pipeline {
  const now = deps.now ?? Date.now;
  const built = new WeakMap<AutomationConfig, { roles: string; automations: Automation[] }>();
  /** When this isolate last woke the starter (a value, not a promise; 0: wake it on the next delivery). */
  let lastWakeAt = 0;
  const automationsOf = (config: PipelineConfig, recipes: AutomationConfig) => {
    const roles = config.signupRoleNames.join(',');
    let cached = built.get(recipes);
    if (cached?.roles !== roles) {
      cached = { roles, automations: automationsFromConfig(recipes, config, now) };
      built.set(recipes, cached);
    }
    return cached.automations;
  };
  // Built again for every env object (cheap: the automations are cached above), so it uses that object's bindings.
  return perIsolate(
    parsePipelineConfig,
    (env: PipelineBindings, config: PipelineConfig): Pipeline => {
      const journal = createJournal(env.JOURNAL, deps.now);
      const wake = async (options: WakeOptions = {}) => {
        if (!options.immediate && !options.restart && Date.now() - lastWakeAt < WAKE_EVERY_MS) return;
        lastWakeAt = Date.now();
        try {
          // The deployment's run starter (a Durable Object): a stub per call, never kept.
          await env.STARTER.get(env.STARTER.idFromName(STARTER_NAME)).wake(options);
        } catch (error) {
          lastWakeAt = 0; // the next delivery wakes it again
          throw error;
        }
      };
      const pipeline: Pipeline = {
        config,
        journal,
        enqueue: createEnqueue({ journal, wake }),
        get recipes() {
          return deps.recipes?.() ?? NO_RECIPES;
        },
        get automations() {
          return automationsOf(config, this.recipes);
        },
        get dryRun() {
          return this.recipes.dryRun;
        },
        plan: (input) => planFor(pipeline.automations, input, pipeline.dryRun),
      };
      return pipeline;
    },
    false,
  );
}

/**
 * The run starter's planner: the claims an event's automations would take (none in a dry run, none when the
 * configuration is broken — runs then claim for themselves and report the configuration error).
 */
export function createStartPlanner(deps: Pick<ServiceDeps, 'now' | 'recipes'> = {}): StartPlanner {
  const pipelines = createPipelineProvider(deps);
  return (env) => {
    const { plan } = pipelines(env);
    return (entry) => {
      const parsed = inputOf(entry);
      return parsed.ok ? claimsBeforeStart(plan(parsed.input)) : undefined;
    };
  };
}
