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
export class TokenEndpointError extends Error {
  readonly code = 'ERR_TOKEN_ENDPOINT';
  override readonly name = 'TokenEndpointError';
  constructor(
    readonly oauthError: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** A token from the token endpoint failed verification; it was neither cached nor used. */
export class TokenCheckError extends Error {
  readonly code = 'ERR_TOKEN_CHECK';
  override readonly name = 'TokenCheckError';
  constructor(
    readonly check: TokenCheck,
    message: string,
  ) {
    super(`access token rejected (${check}): ${message}`);
  }
}
