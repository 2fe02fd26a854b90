import { AppError } from '../errors';
/** Which check a token failed. Stable values; tests and logs rely on them. */
export type TokenCheck =
  | 'malformed'
  | 'type'
  | 'algorithm'
  | 'signature'
  | 'issuer'
  | 'audience'
  | 'subject'
  | 'scope'
  | 'expired'
  | 'jwks_unavailable';

/**
 * The token endpoint refused or failed. `oauthError` is the OAuth `error` code (`invalid_client`, `invalid_target`,
 * …) or Logto's own code for non-OAuth failures (`auth.exceed_token_limit` on a Cloud quota 429). Never carries the
 * secret or a token.
 */
export class TokenEndpointError extends AppError {
  override readonly name = 'TokenEndpointError';
  constructor(
    readonly oauthError: string,
    readonly status: number,
    message: string,
  ) {
    super(oauthError, message, {
      httpStatus: 503,
      publicCode: 'token_unavailable',
      detail: { oauthError },
      // 401 invalid_client / 400 invalid_target are configuration; 429 quota, 5xx and network are transient.
      retryable: status === 0 || status === 429 || status >= 500,
      upstreamStatus: status,
    });
  }
}

/** A token from the token endpoint failed verification; it was neither cached nor used. */
export class TokenCheckError extends AppError {
  override readonly name = 'TokenCheckError';
  constructor(
    readonly check: TokenCheck,
    message: string,
  ) {
    super(`token_${check}`, `access token rejected (${check}): ${message}`, {
      httpStatus: 503,
      publicCode: 'token_unavailable',
      detail: { check },
      retryable: check === 'jwks_unavailable',
    });
  }
}
