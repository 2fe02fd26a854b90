export { ingestCallback } from './callbacks';
export {
  type ActionClaim,
  beginRun,
  claimActions,
  claimVerdict,
  coverWrites,
  finishRun,
  type LeftTo,
  type PlannedClaim,
  settleBeforeStart,
  skippedResult,
} from './claims';
export { createEnqueue, type Enqueue, eventFields, type Recorded, type WakeStarter } from './enqueue';
export { type IngestOutcome, ingestLogtoDelivery, MAX_BODY_BYTES, readBody } from './ingest';
export { claimsBeforeStart, type PlannedAutomation, planFor } from './plan';
export {
  createStarterClass,
  DEFAULT_STARTER_TIMINGS,
  disposeStub,
  type EventRunParams,
  STARTER_NAME,
  type StarterOptions,
  type StarterTimings,
  type StartPlanner,
  startRuns,
  WAKE_EVERY_MS,
  type WakeOptions,
} from './starter';
