/**
 * Alerts to an operator's webhook (ALERT_WEBHOOK_URL): events failed for good (per failure group), deliveries Logto
 * could not make (found by the recovery), a backlog above ALERT_BACKLOG_THRESHOLD, a held batch waiting. Each cause
 * is told once when it appears and once when it is gone; the state lives in the journal's `alerts` table
 * (src/journal/alerts.ts), so any number of cron runs, in any isolates, agree. Evaluated on the minute cron.
 */
export { BACKLOG_AGE_MS, CAUSE_LIMITS, label } from './causes';
export { type Notice, noticeOf, requestOf, SEND_TIMEOUT_MS, type SendOutcome, send } from './notify';
export {
  type AlertDeps,
  KEEP_RESOLVED_MS,
  MAX_NOTICES_PER_RUN,
  NOTICE_LEASE_MS,
  runAlerts,
} from './run';
