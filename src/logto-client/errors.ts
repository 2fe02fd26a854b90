import { AppError } from '../errors';
/**
 * A Management API call failed. `logtoCode` is Logto's own error code (`entity.not_exists_with_id`,
 * `organization.require_membership`, …) or, without a response, `network_error` / `timeout`. `status` is the HTTP
 * status (0 without a response). `retryAfterMs` is set on a 429 whose `Retry-After` exceeded what the client waits
 * inline, so a durable caller can sleep instead.
 */
export class LogtoApiError extends AppError {
  override readonly name = 'LogtoApiError';
  constructor(
    readonly logtoCode: string,
    readonly status: number,
    readonly method: string,
    readonly path: string,
    message: string,
    retryAfterMs?: number,
  ) {
    super(logtoCode, `${method} ${path} → ${status || 'no response'} ${logtoCode}: ${message}`, {
      // A caller of this Worker sees an upstream failure, with Logto's code.
      httpStatus: 502,
      publicCode: 'logto_error',
      detail: { logtoCode },
      // Retrying the same call later can succeed: no response, 408, 429, 5xx.
      retryable: status === 0 || status === 408 || status === 429 || status >= 500,
      retryAfterMs,
      upstreamStatus: status,
    });
  }
}
