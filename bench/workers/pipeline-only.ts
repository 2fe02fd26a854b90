import { createStartPlanner } from '../../src/composition';
import { createGovernorClass } from '../../src/governor';
import { createWorker } from '../../src/handlers';
import { createStarterClass } from '../../src/pipeline';
import { parseAutomationConfig } from '../../src/recipes';
import { createEventWorkflow } from '../../src/workflow';

/** The production Worker with no recipes: only the built-in SIGNUP_ROLE_NAMES automation (ingress, burst). */
const recipes = parseAutomationConfig({ reconcile: { enabled: false } });
const deps = { recipes: () => recipes };
export default createWorker(deps);
export class LogtoEventWorkflow extends createEventWorkflow(deps) {}
export class LogtoGovernor extends createGovernorClass() {}
export class RunStarter extends createStarterClass({ plan: createStartPlanner(deps) }) {}
