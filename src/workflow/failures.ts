import { AutomationError } from '../automations';
import { ConfigError } from '../composition';
import { FetchTimeoutError } from '../http-retry';
import { TokenCheckError, TokenEndpointError } from '../kv-token-cache';
import { GovernorBusyError, LogtoApiError } from '../logto-client';

/** A failed step, as stored in the step's result and then in the journal. Never holds a secret or a token. */
export interface StepFailure {
  /** Logto's error code (`entity.not_found`), an OAuth code (`invalid_client`) or ours (`timeout`, `config`). */
  code: string;
  message: string;
  status?: number;
  /** False for what retrying cannot fix: 4xx other than 408/429, bad configuration, a rejected token. */
  retryable: boolean;
  /** Set on a 429 whose Retry-After the client did not wait inline: the step sleeps this long. */
  retryAfterMs?: number;
  /**
   * Not a failure of the call but a wait before it (the rate governor had no slot; an uncertain effect is settling):
   * the run sleeps `retryAfterMs` durably and does not count an attempt.
   */
  wait?: boolean;
}

const MAX_MESSAGE = 300;
const cut = (message: string) => message.slice(0, MAX_MESSAGE);

/** Maps anything a step may throw to a {@link StepFailure}. Unknown errors are retryable (bounded by attempts). */
export function classifyFailure(error: unknown): StepFailure {
  if (error instanceof GovernorBusyError)
    return {
      code: 'governor_wait',
      message: cut(error.message),
      retryable: true,
      retryAfterMs: error.retryAfterMs,
      wait: true,
    };
  if (error instanceof LogtoApiError) {
    return {
      code: error.logtoCode,
      message: cut(error.message),
      status: error.status,
      retryable: error.retryable || error.status === 408,
      retryAfterMs: error.retryAfterMs,
    };
  }
  if (error instanceof TokenEndpointError) {
    // 401 invalid_client / 400 invalid_target are configuration; 429 quota, 5xx and network are transient.
    const retryable = error.status === 0 || error.status === 429 || error.status >= 500;
    return { code: error.oauthError, message: cut(error.message), status: error.status, retryable };
  }
  if (error instanceof TokenCheckError)
    return {
      code: `token_${error.check}`,
      message: cut(error.message),
      retryable: error.check === 'jwks_unavailable',
    };
  if (error instanceof ConfigError) return { code: 'config', message: cut(error.message), retryable: false };
  if (error instanceof AutomationError)
    return { code: error.errorCode, message: cut(error.message), retryable: error.retryable };
  if (error instanceof FetchTimeoutError)
    return { code: 'timeout', message: cut(error.message), retryable: true };
  const name = error instanceof Error ? error.name : 'Error';
  const message = error instanceof Error ? error.message : String(error);
  return {
    code: name === 'TypeError' ? 'network_error' : 'unexpected',
    message: cut(message),
    retryable: true,
  };
}
