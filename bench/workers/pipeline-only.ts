import { createWorker } from '../../src/handlers';
import { parseAutomationConfig } from '../../src/recipes';
import { createEventWorkflow } from '../../src/workflow';

/** The production Worker with no recipes: only the built-in SIGNUP_ROLE_NAMES automation (ingress, burst). */
const recipes = parseAutomationConfig({ reconcile: { enabled: false } });
const deps = { recipes: () => recipes };
export default createWorker(deps);
export class LogtoEventWorkflow extends createEventWorkflow(deps) {}
