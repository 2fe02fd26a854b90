export { createBrokerClient, createGovernorClient, governorNameOf } from './client';
export { createLocalGovernor } from './local';
export {
  type AcquireRequest,
  type AdmissionAnswer,
  type BrokerConfig,
  createGovernorClass,
  type GovernorDeps,
  type GovernorStats,
  type LogtoGovernor,
  MAX_HOLD_MS,
} from './object';
export type { Budget } from './window';
