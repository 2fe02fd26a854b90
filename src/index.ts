import recipes from '../automations.config';
import { createStartPlanner } from './composition';
import { createGovernorClass } from './governor';
import { createWorker } from './handlers';
import { createStarterClass } from './pipeline';
import { parseAutomationConfig } from './recipes';
import { createEventWorkflow } from './workflow';

/** Validated when the module loads: an invalid automations.config.ts stops the Worker from starting. */
const config = parseAutomationConfig(recipes);
const deps = { recipes: () => config };

/** The Worker: `fetch` (Hono app) and `scheduled` (cron sweeps). */
export default createWorker(deps);

/** One instance per journaled event run (binding EVENT_WORKFLOW in wrangler.toml). */
export class LogtoEventWorkflow extends createEventWorkflow(deps) {}

/** One per Logto tenant: the rate governor and the token broker of the whole deployment (binding GOVERNOR). */
export class LogtoGovernor extends createGovernorClass() {}

/** Starts Workflow runs in batches for every isolate (binding STARTER). */
export class RunStarter extends createStarterClass({ plan: createStartPlanner(deps) }) {}
