/**
 * A Management API call failed. `logtoCode` is Logto's own error code (`entity.not_exists_with_id`,
 * `organization.require_membership`, …) or, without a response, `network_error` / `timeout`. `status` is the HTTP
 * status (0 without a response). `retryAfterMs` is set on a 429 whose `Retry-After` exceeded what the client waits
 * inline, so a durable caller can sleep instead.
 */
export class LogtoApiError extends Error {
  readonly code = 'ERR_LOGTO_API';
  override readonly name = 'LogtoApiError';
  constructor(
    readonly logtoCode: string,
    readonly status: number,
    readonly method: string,
    readonly path: string,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(`${method} ${path} → ${status || 'no response'} ${logtoCode}: ${message}`);
  }

  /** True when retrying the same call later can succeed (429, 5xx, no response). */
  get retryable(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }
}
