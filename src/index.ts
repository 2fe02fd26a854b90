import recipes from '../automations.config';
import { createWorker } from './handlers';
import { parseAutomationConfig } from './recipes';
import { createEventWorkflow } from './workflow';

/** Validated when the module loads: an invalid automations.config.ts stops the Worker from starting. */
const config = parseAutomationConfig(recipes);
const deps = { recipes: () => config };

/** The Worker: `fetch` (Hono app) and `scheduled` (cron sweeps). */
export default createWorker(deps);

/** One instance per journaled event run (binding EVENT_WORKFLOW in wrangler.toml). */
export class LogtoEventWorkflow extends createEventWorkflow(deps) {}
