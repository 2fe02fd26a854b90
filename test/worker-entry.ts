import shippedConfig from '../automations.config';
import { createStartPlanner } from '../src/composition';
import { createGovernorClass } from '../src/governor';
import { createWorker } from '../src/handlers';
import { createStarterClass } from '../src/pipeline';
import { type AutomationConfig, parseAutomationConfig } from '../src/recipes';
import { createEventWorkflow } from '../src/workflow';

/**
 * The Worker as tests run it: the production factories (`createWorker`, `createEventWorkflow`, the Durable Objects)
 * with the outbound fetch, clock and inline sleep routed through `testRuntime`, which a test points at its Logto
 * emulator. vitest.config.ts makes this the main module, so Workflow instances and Durable Objects use it too.
 */
export const testRuntime: {
  fetch?: typeof fetch;
  now?: () => number;
  /** Inline waits (retry backoff, short Retry-After). Default: none, so unit-level tests run in milliseconds; the
   * soak test sets real timers. */
  sleep?: (ms: number) => Promise<void>;
  /** The recipes runs use; a test sets them (validated) and resets them after. Default: none. */
  recipes?: AutomationConfig;
} = {};

/** The repository's own automations.config.ts must be valid: an invalid one fails every test file at start-up. */
export const shippedRecipes = parseAutomationConfig(shippedConfig);

const deps = {
  fetch: ((input, init) => (testRuntime.fetch ?? fetch)(input, init)) as typeof fetch,
  now: () => (testRuntime.now ?? Date.now)(),
  sleep: (ms: number) => (testRuntime.sleep ?? (async () => {}))(ms),
  recipes: () => testRuntime.recipes ?? NO_RECIPES,
};
const NO_RECIPES = parseAutomationConfig({});

export default createWorker(deps);

export class LogtoEventWorkflow extends createEventWorkflow(deps) {}

export class LogtoGovernor extends createGovernorClass(deps) {}

export class RunStarter extends createStarterClass({
  now: () => deps.now(),
  plan: createStartPlanner(deps),
}) {}
