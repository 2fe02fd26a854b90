import { createWorker } from '../../src/handlers';
import { parseAutomationConfig } from '../../src/recipes';
import { createEventWorkflow } from '../../src/workflow';

/** The production Worker with the personal-organization recipe only (the `signup` benchmark). */
const recipes = parseAutomationConfig({
  personalOrganization: { name: "{username}'s workspace", organizationRoles: ['admin'] },
  reconcile: { enabled: false },
});
const deps = { recipes: () => recipes };
export default createWorker(deps);
export class LogtoEventWorkflow extends createEventWorkflow(deps) {}
