// Public surface of the agent runtime: the sidecar, its leader, and the desired-state format.
export { Agent, reconcilePolicyOf } from './agent.js';
export type { AgentOptions, ReloadOutcome } from './agent.js';
export { Leader } from './leader.js';
export type { LeaderOptions, LeaderStatus } from './leader.js';
export { FLEET_POLICY_KEY, desiredSpecOf, parseDesiredSpec } from './desired-spec.js';
export type { AgentDesiredSpec, PlanSummary, StageRef } from './desired-spec.js';
export { configDiff } from './config-diff.js';
export { watchConfigFile } from './config-watch.js';
export type { ConfigWatch } from './config-watch.js';
export {
  errorTypeOf, LeaderConflictError, NoPeerError, PeerAnswerError, PeerClient, PeerStatusError, PeerTimeoutError, PeerUnreachableError,
} from './peer-client.js';
export type { LeaderLocation } from './peer-client.js';
