export {
  type BrokerAnswer,
  type BrokerFailure,
  createTokenBroker,
  DEFAULT_SKEW_SECONDS,
  KV_MIN_TTL_SECONDS,
  TOKEN_KEY_PREFIX,
  type TokenBroker,
  type TokenBrokerClient,
  type TokenBrokerOptions,
  type TokenGrant,
  tokenKvKey,
} from './broker';
export { type TokenCheck, TokenCheckError, TokenEndpointError } from './errors';
export { createJwksCache, type JwksKeyResolver, JwksUnavailableError } from './jwks';
export {
  createTokenCache,
  type TokenCache,
  type TokenCacheOptions,
  type TokenCacheStats,
  type TokenOrigin,
} from './token-cache';
export { basicAuth } from './token-endpoint';
export { createTokenVerifier, type TokenVerdict } from './verify-token';
