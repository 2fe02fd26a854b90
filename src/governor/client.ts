import type { TokenBrokerClient } from '../kv-token-cache';
import { type Admission, GovernorBusyError, type RateGovernor } from '../logto-client';
import type { BrokerConfig, LogtoGovernor } from './object';
import type { Budget } from './window';

/** The object's name: one governor per Logto tenant (its endpoint), shared by the whole deployment. */
export const governorNameOf = (endpoint: string) => `tenant:${endpoint}`;

type GovernorStub = DurableObjectStub<LogtoGovernor>;

/**
 * The rate governor as the client sees it, over the tenant's Durable Object. `stub` is called for every request:
 * a stub is an I/O object of the request that made it and cannot be kept across requests. A caller that must wait is
 * held by the object (in this caller's own RPC) at most its `maxWaitMs`, then gets {@link GovernorBusyError}.
 */
export function createGovernorClient(stub: () => GovernorStub, budget: Budget): RateGovernor {
  return {
    async acquire({ maxWaitMs, leaseMs }): Promise<Admission> {
      const answer = await stub().acquire({ budget, leaseMs, maxWaitMs });
      if (!answer.granted) throw new GovernorBusyError(answer.retryAfterMs);
      const { ticket } = answer;
      return { release: (outcome) => stub().release(ticket, outcome?.pauseMs) };
    },
  };
}

/** The token broker of the tenant's Durable Object, for an isolate's token cache configured with `config`. */
export function createBrokerClient(stub: () => GovernorStub, config: BrokerConfig): TokenBrokerClient {
  // Exactly these fields (the caller may pass its whole Logto configuration): the object fingerprints them.
  const own: BrokerConfig = {
    endpoint: config.endpoint,
    issuer: config.issuer,
    resource: config.resource,
    appId: config.appId,
    appSecret: config.appSecret,
    algorithms: config.algorithms,
    tokenExpirySkewSeconds: config.tokenExpirySkewSeconds,
    apiTimeoutMs: config.apiTimeoutMs,
  };
  return {
    token: (request) => stub().token({ ...request, config: own }),
    drop: (accessToken) => stub().drop(accessToken, own),
  };
}
