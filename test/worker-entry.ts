import { createWorker } from '../src/handlers';
import { createEventWorkflow } from '../src/workflow';

/**
 * The Worker as tests run it: the production factories (`createWorker`, `createEventWorkflow`) with the outbound
 * fetch, clock and inline sleep routed through `testRuntime`, which a test points at its Logto emulator. vitest.config.ts
 * makes this the main module, so Workflow instances the runtime starts use it too.
 */
export const testRuntime: {
  fetch?: typeof fetch;
  now?: () => number;
} = {};

const deps = {
  fetch: ((input, init) => (testRuntime.fetch ?? fetch)(input, init)) as typeof fetch,
  now: () => (testRuntime.now ?? Date.now)(),
  sleep: async () => {},
};

export default createWorker(deps);

export class LogtoEventWorkflow extends createEventWorkflow(deps) {}
