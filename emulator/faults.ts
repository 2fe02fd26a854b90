import type { Context, MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import { logtoError } from './http';

/**
 * One injected fault. `target` is `token`, `jwks`, `api` (every Management API route) or one route key such as
 * `POST /api/users/:userId/roles`. A fault with `status` answers instead of the route; `delayMs` alone slows it;
 * `network` drops the connection (the fetch rejects).
 */
export interface FaultRule {
  target: string;
  status?: 401 | 403 | 429 | 500 | 502 | 503 | 504;
  /** Logto error `code` in the body; defaults by status. */
  code?: string;
  retryAfterSeconds?: number;
  delayMs?: number;
  network?: boolean;
  /** With `network`: the route runs (its change is committed) and only then is the connection dropped. */
  afterCommit?: boolean;
  /** How many matching requests this rule hits; default unlimited. */
  times?: number;
  /** Probability of hitting a matching request (seeded PRNG); default 1. */
  probability?: number;
}

export interface RateLimit {
  requests: number;
  windowMs: number;
}

const DEFAULT_CODES: Record<number, string> = {
  401: 'auth.unauthorized',
  403: 'auth.forbidden',
  429: 'request.too_many_requests',
};

/** Mulberry32: a small seeded PRNG so probabilistic faults repeat run to run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Thrown by a `network` fault; the emulator rethrows it so the caller's fetch rejects like a lost connection. */
export class DroppedConnection extends TypeError {
  constructor() {
    super('Network connection lost.');
  }
}

const targetOf = (key: string) =>
  key.endsWith(' /oidc/token')
    ? 'token'
    : key.endsWith(' /oidc/jwks')
      ? 'jwks'
      : key.includes(' /api/')
        ? 'api'
        : '';

/** Request counting, fault injection and an optional rate limit, as one Hono middleware. */
export function createFaults(options: {
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  seed: number;
}) {
  const random = seededRandom(options.seed);
  const counts = new Map<string, number>();
  const userAgents = new Map<string, number>();
  let rules: (FaultRule & { hits: number })[] = [];
  let rateLimit: RateLimit | undefined;
  const window: number[] = [];
  let status429 = 0;
  /** 429s from the rate limit only (not injected ones). */
  let rateLimited = 0;
  /** When each Management API call was let through the rate limit (emulator clock), for timelines. */
  const admitted: number[] = [];
  /** When each Management API call arrived, limited or not (emulator clock). */
  const arrivals: number[] = [];

  function pick(key: string): FaultRule | undefined {
    for (const rule of rules) {
      const applies = rule.target === key || rule.target === targetOf(key);
      if (!applies || (rule.times !== undefined && rule.hits >= rule.times)) continue;
      if (rule.probability !== undefined && random() >= rule.probability) continue;
      rule.hits++;
      return rule;
    }
    return undefined;
  }

  function overLimit(c: Context): Response | undefined {
    if (!rateLimit) return undefined;
    const now = options.now();
    while (window.length > 0 && (window[0] ?? 0) <= now - rateLimit.windowMs) window.shift();
    if (window.length < rateLimit.requests) {
      window.push(now);
      admitted.push(now);
      return undefined;
    }
    status429++;
    rateLimited++;
    const retryAfter = Math.max(1, Math.ceil(((window[0] ?? now) + rateLimit.windowMs - now) / 1000));
    c.header('Retry-After', String(retryAfter));
    return logtoError(c, 429, 'request.too_many_requests', 'Too many requests.');
  }

  const middleware: MiddlewareHandler = async (c, next) => {
    const key = `${c.req.method} ${routePath(c, -1)}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    if (key.includes(' /api/')) {
      arrivals.push(options.now());
      const agent = c.req.header('user-agent') ?? '';
      userAgents.set(agent, (userAgents.get(agent) ?? 0) + 1);
      const limited = overLimit(c);
      if (limited) return limited;
    }
    const rule = pick(key);
    if (rule?.delayMs) await options.sleep(rule.delayMs);
    if (rule?.network && rule.afterCommit) {
      await next();
      throw new DroppedConnection();
    }
    if (rule?.network) throw new DroppedConnection();
    if (rule?.status) {
      if (rule.status === 429) status429++;
      if (rule.retryAfterSeconds !== undefined) c.header('Retry-After', String(rule.retryAfterSeconds));
      return logtoError(
        c,
        rule.status,
        rule.code ?? DEFAULT_CODES[rule.status] ?? 'unknown',
        'Injected fault.',
      );
    }
    await next();
  };

  return {
    middleware,
    add(rule: FaultRule) {
      rules.push({ ...rule, hits: 0 });
    },
    clear() {
      rules = [];
    },
    setRateLimit(limit: RateLimit | undefined) {
      rateLimit = limit;
      window.length = 0;
    },
    /** Requests per route key (`METHOD /route/:param`), faulted ones included. */
    counts: (): Record<string, number> => Object.fromEntries(counts),
    count: (key: string) => counts.get(key) ?? 0,
    /** User-Agents seen on Management API calls, with counts. */
    userAgents: (): Record<string, number> => Object.fromEntries(userAgents),
    status429: () => status429,
    /** 429s the configured rate limit answered (injected 429 faults not included). */
    rateLimited: () => rateLimited,
    /** Times (emulator clock) at which rate-limited Management API calls were admitted. */
    admitted: (): readonly number[] => admitted,
    /** Times (emulator clock) at which Management API calls arrived, whatever their answer. */
    arrivals: (): readonly number[] => arrivals,
    resetCounts() {
      counts.clear();
      userAgents.clear();
      status429 = 0;
      rateLimited = 0;
      admitted.length = 0;
      arrivals.length = 0;
    },
  };
}
