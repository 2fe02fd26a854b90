export { type AdminAuthOptions, type AdminVerdict, createAdminVerifier } from './auth';
