export { decideReconcile, initialReconcileState, DEFAULT_RECONCILE_POLICY } from './decide.js';
export type {
  DesiredState, ModelSpec, ReconcileAction, ReconcileDecision, ReconcileInput, ReconcileMode, ReconcilePolicy, ReconcileState,
} from './decide.js';
export { judgeDesired } from './fence.js';
export type { FenceSnapshot, FenceVerdict } from './fence.js';
