import { DurableObject } from 'cloudflare:workers';
import type { LogtoConfig } from '../config';
import { type BrokerAnswer, createTokenBroker, type TokenBroker } from '../kv-token-cache';
import { PROJECT_USER_AGENT } from '../logto-client';
import {
  admit,
  type Budget,
  createWindow,
  nextOpening,
  pause,
  release,
  type SlotWindow,
  used,
} from './window';

/** The answer to one `acquire`: a slot (its ticket), or how long to wait before asking again. */
export type AdmissionAnswer = { granted: true; ticket: string } | { granted: false; retryAfterMs: number };

export interface AcquireRequest {
  budget: Budget;
  /** A grant never released lapses this long after it was made (its caller died mid-call). */
  leaseMs: number;
  /** Longest the caller lets this call hold its place in the queue. Capped at {@link MAX_HOLD_MS}. */
  maxWaitMs: number;
}

/** What the governor holds now, for benchmarks, health checks and the console. */
export interface GovernorStats {
  budget: Budget;
  /** Slots counted in the window now (answered within it, plus in flight). */
  used: number;
  inflight: number;
  waiting: number;
  pausedUntil: number;
  /** Grants since this object started. */
  granted: number;
  /** Token-endpoint requests since this object started. */
  tokenRequests: number;
}

/** Longest one `acquire` call holds the caller's place before it answers "not yet". */
export const MAX_HOLD_MS = 30_000;

interface Waiter {
  request: AcquireRequest;
  giveUpAt: number;
  resolve: (answer: AdmissionAnswer) => void;
}

/** What the token broker needs of the Worker's validated Logto configuration. */
export type BrokerConfig = Pick<
  LogtoConfig,
  | 'endpoint'
  | 'issuer'
  | 'resource'
  | 'appId'
  | 'appSecret'
  | 'algorithms'
  | 'tokenExpirySkewSeconds'
  | 'apiTimeoutMs'
>;

export interface GovernorDeps {
  fetch?: typeof fetch;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

type Row = Record<string, SqlStorageValue>;

/**
 * Builds the Durable Object class that governs one Logto tenant for the whole deployment (one object per endpoint):
 *
 * - **Rate**: every Management API call of every isolate, Workflow instance, cron and admin call asks it for a slot
 *   (`acquire`) and gives it back when answered (`release`). The window (src/governor/window.ts) lives in memory and in
 *   the object's SQLite storage, so a restarted object does not forget the calls still counting. Callers queue in
 *   order; a caller is held at most the wait it allows, then told how long to sleep (in a Workflow, a durable sleep).
 * - **Token**: the deployment's one token broker (src/kv-token-cache/broker.ts): one token request per expiry.
 *
 * Inside a Durable Object, in-flight work may be shared between its requests (the runtime rule's one exception), so
 * waiters are resolved from another request's context here and nowhere else.
 */
export function createGovernorClass(deps: GovernorDeps = {}) {
  const now = () => (deps.now ?? Date.now)();
  return class LogtoGovernor extends DurableObject<Env> {
    private readonly window: SlotWindow = createWindow();
    private budget: Budget = { requests: 200, windowMs: 10_000 };
    private readonly waiters: Waiter[] = [];
    private timer: ReturnType<typeof setTimeout> | null = null;
    /** When the pending timer fires; infinite when none is pending. */
    private timerAt = Number.POSITIVE_INFINITY;
    private granted = 0;
    private serial = 0;
    /**
     * Callers told to come back are spaced one slot's share of the window apart from this time on, so that they
     * return at the rate slots free up instead of all at once (or too late, leaving slots unused).
     */
    private comebackAt = 0;
    private broker: { fingerprint: string; broker: TokenBroker } | undefined;

    constructor(ctx: DurableObjectState, env: Env) {
      super(ctx, env);
      const sql = ctx.storage.sql;
      sql.exec(`CREATE TABLE IF NOT EXISTS slots (ticket TEXT PRIMARY KEY, lapse_at INTEGER NOT NULL,
        answered_at INTEGER)`);
      sql.exec('CREATE TABLE IF NOT EXISTS state (name TEXT PRIMARY KEY, value INTEGER NOT NULL)');
      for (const row of sql.exec<Row>(
        'SELECT ticket, lapse_at, answered_at FROM slots ORDER BY answered_at',
      )) {
        if (row.answered_at === null) this.window.inflight.set(String(row.ticket), Number(row.lapse_at));
        else this.window.answered.push(Number(row.answered_at));
      }
      const paused = sql.exec<Row>("SELECT value FROM state WHERE name = 'paused_until'").toArray()[0];
      this.window.pausedUntil = paused ? Number(paused.value) : 0;
    }

    /**
     * A slot now, or once one frees up within the caller's wait; otherwise how long to wait. The caller queues behind
     * the earlier ones: granted at once when it is first and a slot is free, told to come back at once when it allows
     * no wait.
     */
    async acquire(request: AcquireRequest): Promise<AdmissionAnswer> {
      this.budget = request.budget;
      const maxWaitMs = Math.max(0, Math.min(request.maxWaitMs, MAX_HOLD_MS));
      return new Promise<AdmissionAnswer>((resolve) => {
        this.waiters.push({ request, giveUpAt: now() + maxWaitMs, resolve });
        this.pump();
      });
    }

    /**
     * The call was answered (at this moment). `pauseMs` after a 429 stops every grant for that long, at most one
     * window: the caller that got the 429 sleeps its whole `Retry-After` itself; the others only stop hammering a
     * tenant that said no (a long `Retry-After` on one route must not freeze the deployment).
     */
    async release(ticket: string, pauseMs?: number): Promise<void> {
      const at = now();
      if (release(this.window, ticket, at))
        this.ctx.storage.sql.exec('UPDATE slots SET answered_at = ? WHERE ticket = ?', at, ticket);
      if (pauseMs && pauseMs > 0) {
        pause(this.window, at + Math.min(pauseMs, this.budget.windowMs));
        this.ctx.storage.sql.exec(
          "INSERT OR REPLACE INTO state (name, value) VALUES ('paused_until', ?)",
          this.window.pausedUntil,
        );
      }
      this.pump();
    }

    async stats(): Promise<GovernorStats> {
      return {
        budget: this.budget,
        used: used(this.window, this.budget, now()),
        inflight: this.window.inflight.size,
        waiting: this.waiters.length,
        pausedUntil: this.window.pausedUntil,
        granted: this.granted,
        tokenRequests: this.broker?.broker.stats().tokenRequests ?? 0,
      };
    }

    /**
     * A token usable after `minUsableUntil`: one token request per expiry for the whole deployment. The caller's
     * validated configuration comes with the request (an internal RPC), so the object serves exactly the Logto the
     * Worker is configured for.
     */
    async token(request: { minUsableUntil: number; config: BrokerConfig }): Promise<BrokerAnswer> {
      return this.tokenBroker(request.config).token(request);
    }

    /** Forgets a token the Management API rejected. */
    async drop(accessToken: string, config: BrokerConfig): Promise<void> {
      await this.tokenBroker(config).drop(accessToken);
    }

    private tokenBroker(config: BrokerConfig): TokenBroker {
      const fingerprint = JSON.stringify(config);
      if (this.broker?.fingerprint !== fingerprint) {
        const broker = createTokenBroker({
          ...config,
          kv: this.env.TOKEN_CACHE,
          fetch: deps.fetch,
          now: deps.now,
          sleep: deps.sleep,
          skewSeconds: config.tokenExpirySkewSeconds,
          timeoutMs: config.apiTimeoutMs,
          userAgent: PROJECT_USER_AGENT,
        });
        this.broker = { fingerprint, broker };
      }
      return this.broker.broker;
    }

    private tryGrant(request: AcquireRequest): string | undefined {
      const at = now();
      const ticket = `${at.toString(36)}-${(++this.serial).toString(36)}`;
      if (!admit(this.window, request.budget, at, ticket, request.leaseMs)) return undefined;
      this.granted++;
      const sql = this.ctx.storage.sql;
      sql.exec('INSERT INTO slots (ticket, lapse_at) VALUES (?, ?)', ticket, at + request.leaseMs);
      if (this.granted % 50 === 0) {
        // Slots that no longer count (a NULL answered_at compares as unknown: in flight, kept until it lapses).
        sql.exec('DELETE FROM slots WHERE answered_at <= ?1 OR lapse_at <= ?1', at - request.budget.windowMs);
      }
      return ticket;
    }

    /** When a caller giving up its place should come back: the next free comeback time, then one share later. */
    private comeback(): number {
      const at = now();
      const back = Math.max(nextOpening(this.window, this.budget, at), this.comebackAt, at + 50);
      this.comebackAt = back + this.budget.windowMs / this.budget.requests;
      return back - at;
    }

    /** Grants waiters in order while slots are free, answers those whose wait ran out, re-arms the timer. */
    private pump(): void {
      while (this.waiters.length > 0) {
        const head = this.waiters[0] as Waiter;
        const ticket = this.tryGrant(head.request);
        if (!ticket) break;
        this.waiters.shift();
        head.resolve({ granted: true, ticket });
      }
      const at = now();
      for (let i = 0; i < this.waiters.length; ) {
        const waiter = this.waiters[i] as Waiter;
        if (waiter.giveUpAt > at) {
          i++;
          continue;
        }
        this.waiters.splice(i, 1);
        waiter.resolve({ granted: false, retryAfterMs: this.comeback() });
      }
      if (this.waiters.length === 0) return;
      const wakeAt = Math.min(
        nextOpening(this.window, this.budget, at),
        ...this.waiters.map((waiter) => waiter.giveUpAt),
      );
      this.arm(Math.max(wakeAt, at + 1));
    }

    private arm(at: number): void {
      if (this.timerAt <= at) return;
      clearTimeout(this.timer);
      this.timerAt = at;
      this.timer = setTimeout(() => {
        this.timerAt = Number.POSITIVE_INFINITY;
        this.pump();
      }, at - now());
    }
  };
}

export type LogtoGovernorClass = ReturnType<typeof createGovernorClass>;
export type LogtoGovernor = InstanceType<LogtoGovernorClass>;
