import { createWorker } from './handlers';
import { createEventWorkflow } from './workflow';

/** The Worker: `fetch` (Hono app) and `scheduled` (cron sweep). */
export default createWorker();

/** One instance per journaled event run (binding EVENT_WORKFLOW in wrangler.toml). */
export class LogtoEventWorkflow extends createEventWorkflow() {}
