export { type TokenCheck, TokenCheckError, TokenEndpointError } from './errors';
export {
  createTokenCache,
  KV_MIN_TTL_SECONDS,
  TOKEN_KEY_PREFIX,
  type TokenCache,
  type TokenCacheOptions,
  type TokenCacheStats,
  type TokenOrigin,
} from './token-cache';
export { createTokenVerifier, type TokenVerdict } from './verify-token';
