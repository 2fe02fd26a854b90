export { type AdminVerdict, checkAdminToken, type LogtoIssuer, verifyLogtoJwt } from './auth';
