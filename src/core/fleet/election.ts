// Leader election as a pure state machine, after client-go's leaderelection package: a lease record
// in a lock (a Kubernetes Lease, the memory backend's cell) that candidates read, and acquire or
// renew with a compare-and-swap on the lock's version. The lock does the I/O
// (coordination/lease-elector.ts); this file only decides.
//
// The rules, as in client-go:
// - timing: leaseDuration > renewDeadline > 1.2 × retryPeriod (1.2 is client-go's JitterFactor);
// - a lease is judged expired on LOCALLY OBSERVED time: when this candidate last saw the record
//   change, plus the record's lease duration. The holder's acquire and renew timestamps are
//   informational only, since clocks of different machines disagree;
// - a leader that has not renewed within the renew deadline stops leading, before any other
//   candidate can judge its lease expired (leaseDuration > renewDeadline);
// - a released lease (empty holder) is free at once.
// One difference, for fencing: an acquisition that is not a renewal of the lease this candidate
// holds always increments leaseTransitions, even when the record names this identity (a restarted
// process, or two processes given the same id), and such a record is waited out like any other.
// The fencing epoch of a record is leaseTransitions + 1, so the first leader's epoch is 1.
import type { Problem } from '../model/errors.js';

/** client-go's JitterFactor: the renew deadline must leave room for one jittered retry. */
export const JITTER_FACTOR = 1.2;

export interface ElectionTiming {
  /** How long a lease, once observed unchanged, keeps other candidates away. */
  readonly leaseDurationMs: number;
  /** How long a leader keeps trying to renew before it stops leading. */
  readonly renewDeadlineMs: number;
  /** How often candidates try to acquire, and the leader to renew. */
  readonly retryPeriodMs: number;
}

/** client-go's defaults for Kubernetes components. */
export const DEFAULT_ELECTION_TIMING: ElectionTiming = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

/** Every violated rule of `timing`; paths are `prefix` + the key (`leaseDuration`, …). */
export function electionTimingProblems(timing: ElectionTiming, prefix = ''): Problem[] {
  const at = (key: string): string => (prefix === '' ? key : `${prefix}.${key}`);
  const problems: Problem[] = [];
  const named: [string, number][] = [
    ['leaseDuration', timing.leaseDurationMs], ['renewDeadline', timing.renewDeadlineMs], ['retryPeriod', timing.retryPeriodMs],
  ];
  for (const [key, ms] of named) {
    if (!(Number.isFinite(ms) && ms > 0)) problems.push({ path: at(key), message: `${ms} — must be > 0` });
  }
  if (problems.length > 0) return problems;
  if (!(timing.leaseDurationMs > timing.renewDeadlineMs)) {
    problems.push({ path: at('leaseDuration'), message: `${timing.leaseDurationMs}ms — must be greater than renewDeadline (${timing.renewDeadlineMs}ms)` });
  }
  if (!(timing.renewDeadlineMs > JITTER_FACTOR * timing.retryPeriodMs)) {
    problems.push({
      path: at('renewDeadline'),
      message: `${timing.renewDeadlineMs}ms — must be greater than ${JITTER_FACTOR} × retryPeriod (${JITTER_FACTOR * timing.retryPeriodMs}ms)`,
    });
  }
  return problems;
}

/** What the lock holds (client-go's LeaderElectionRecord; a Lease's spec). */
export interface LeaseRecord {
  /** '' when released. */
  readonly holderIdentity: string;
  readonly leaseDurationMs: number;
  /** The holder's clock: informational, never used to judge expiry. */
  readonly acquireTimeMs: number;
  readonly renewTimeMs: number;
  readonly leaseTransitions: number;
}

/** A record as read from the lock, with the version a compare-and-swap must name. */
export interface LockSnapshot {
  readonly record: LeaseRecord;
  readonly version: string;
}

export interface ElectionState {
  readonly observed: LockSnapshot | undefined;
  /** Local time when `observed` was last seen to change. */
  readonly observedAtMs: number;
  /** Whether this candidate holds the lease (its last acquire or renew succeeded, within the deadline). */
  readonly leading: boolean;
  /** Local time at which the last successful acquire or renew was STARTED. */
  readonly renewedAtMs: number;
}

export const INITIAL_ELECTION_STATE: ElectionState = { observed: undefined, observedAtMs: 0, leading: false, renewedAtMs: 0 };

export type LostReason = 'taken' | 'deleted' | 'renew-deadline';

/** What to do with the lock now. "No write" is a value, with its reason. */
export type ElectionAction =
  | { readonly kind: 'create'; readonly record: LeaseRecord; readonly renewal: false }
  | { readonly kind: 'update'; readonly record: LeaseRecord; readonly version: string; readonly renewal: boolean }
  | { readonly kind: 'hold'; readonly reason: 'held-by-other' | 'not-campaigning' };

/** The actions that write the lock. */
export type WriteAction = Extract<ElectionAction, { kind: 'create' | 'update' }>;

export interface ElectionInput {
  readonly nowMs: number;
  readonly identity: string;
  readonly timing: ElectionTiming;
  /** The lock as just read; undefined when there is no record. */
  readonly current: LockSnapshot | undefined;
  /** False for a pure observer: it only tracks the record. */
  readonly campaigning: boolean;
}

export interface ElectionStep {
  readonly action: ElectionAction;
  readonly state: ElectionState;
  /** Set when this step ends this candidate's leadership. */
  readonly lost?: LostReason;
}

/** The fencing epoch of a record. */
export function epochOf(record: LeaseRecord): number {
  return record.leaseTransitions + 1;
}

/** Records `current` as observed at `nowMs` when it differs from what was observed before. */
export function observe(state: ElectionState, current: LockSnapshot | undefined, nowMs: number): ElectionState {
  if (sameSnapshot(state.observed, current)) return state;
  return { ...state, observed: current, observedAtMs: nowMs };
}

/** Whether the observed lease keeps other candidates away at `nowMs` (judged on local observation). */
export function isHeld(state: ElectionState, nowMs: number): boolean {
  const record = state.observed?.record;
  if (record === undefined || record.holderIdentity === '') return false;
  return state.observedAtMs + record.leaseDurationMs > nowMs;
}

/** The leader and epoch as this state shows them: no leader once the lease is released or expired. */
export function leaderOf(state: ElectionState, nowMs: number): { leaderId: string | undefined; epoch: number } {
  const record = state.observed?.record;
  if (record === undefined) return { leaderId: undefined, epoch: 0 };
  return { leaderId: isHeld(state, nowMs) ? record.holderIdentity : undefined, epoch: epochOf(record) };
}

/** One try to acquire or renew (client-go's tryAcquireOrRenew), given the lock as just read. */
export function decideElection(input: ElectionInput, before: ElectionState): ElectionStep {
  const { nowMs, identity, timing, current } = input;
  let state = observe(before, current, nowMs);
  let lost: LostReason | undefined;
  const record = current?.record;
  if (state.leading) {
    if (record === undefined) lost = 'deleted';
    else if (record.holderIdentity !== identity || current?.version !== before.observed?.version) lost = 'taken';
    else if (nowMs - state.renewedAtMs >= timing.renewDeadlineMs) lost = 'renew-deadline';
    if (lost !== undefined) state = { ...state, leading: false };
  }
  const step = (action: ElectionAction): ElectionStep => (lost === undefined ? { action, state } : { action, state, lost });
  if (!input.campaigning) return step({ kind: 'hold', reason: 'not-campaigning' });
  if (current === undefined || record === undefined) {
    return step({
      kind: 'create',
      renewal: false,
      record: { holderIdentity: identity, leaseDurationMs: timing.leaseDurationMs, acquireTimeMs: nowMs, renewTimeMs: nowMs, leaseTransitions: 0 },
    });
  }
  const renewal = state.leading; // still ours (checked above)
  if (!renewal && isHeld(state, nowMs)) return step({ kind: 'hold', reason: 'held-by-other' });
  return step({
    kind: 'update',
    version: current.version,
    renewal,
    record: {
      holderIdentity: identity,
      leaseDurationMs: timing.leaseDurationMs,
      acquireTimeMs: renewal ? record.acquireTimeMs : nowMs,
      renewTimeMs: nowMs,
      leaseTransitions: renewal ? record.leaseTransitions : record.leaseTransitions + 1,
    },
  });
}

/** The outcome of the write an action asked for (or of a failed read: `{ok: false}`). */
export type WriteOutcome = { readonly ok: true; readonly written: LockSnapshot } | { readonly ok: false };

export interface SettledStep {
  readonly state: ElectionState;
  /** Set when this write began a new leadership (not a renewal): its epoch. */
  readonly acquired?: number;
  readonly lost?: LostReason;
}

/**
 * Applies the outcome of `action`, a write started at `startedAtMs`, to the state as it is now. A
 * success makes (or keeps) this candidate the leader, except a renewal that lands after the
 * leadership already ended (the renew deadline passed while it was in flight): that term is over,
 * and the lease is then won back only by a new acquisition, with a new epoch. A failure ends the
 * leadership once the renew deadline has passed since the last success.
 */
export function settleElection(
  state: ElectionState, action: WriteAction, outcome: WriteOutcome, startedAtMs: number, nowMs: number, timing: ElectionTiming,
): SettledStep {
  if (!outcome.ok) return expireLeadership(state, nowMs, timing);
  if (action.renewal && !state.leading) return { state: { ...state, observed: outcome.written, observedAtMs: startedAtMs } };
  const next: ElectionState = { observed: outcome.written, observedAtMs: startedAtMs, leading: true, renewedAtMs: startedAtMs };
  return action.renewal ? { state: next } : { state: next, acquired: epochOf(outcome.written.record) };
}

/** Ends the leadership when the renew deadline has passed without a renewal (client-go's renew loop). */
export function expireLeadership(state: ElectionState, nowMs: number, timing: ElectionTiming): SettledStep {
  if (state.leading && nowMs - state.renewedAtMs >= timing.renewDeadlineMs) {
    return { state: { ...state, leading: false }, lost: 'renew-deadline' };
  }
  return { state };
}

/**
 * The write that releases the lease `identity` holds in `observed` (client-go's ReleaseOnCancel):
 * no holder, so the next candidate acquires at once, with leaseTransitions kept (the next
 * acquisition increments it). Undefined when `observed` is not held by `identity`.
 */
export function releaseAction(observed: LockSnapshot | undefined, identity: string, nowMs: number): { record: LeaseRecord; version: string } | undefined {
  if (observed === undefined || observed.record.holderIdentity !== identity || identity === '') return undefined;
  const { record, version } = observed;
  return { version, record: { holderIdentity: '', leaseDurationMs: 1000, acquireTimeMs: nowMs, renewTimeMs: nowMs, leaseTransitions: record.leaseTransitions } };
}

function sameSnapshot(a: LockSnapshot | undefined, b: LockSnapshot | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  const x = a.record;
  const y = b.record;
  return a.version === b.version && x.holderIdentity === y.holderIdentity && x.leaseDurationMs === y.leaseDurationMs
    && x.acquireTimeMs === y.acquireTimeMs && x.renewTimeMs === y.renewTimeMs && x.leaseTransitions === y.leaseTransitions;
}
