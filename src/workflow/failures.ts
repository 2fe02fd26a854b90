/** A run's failures are mapped by the one error model (src/errors): what a step throws → what the journal records. */
export { type StepFailure, toStepFailure as classifyFailure } from '../errors';
