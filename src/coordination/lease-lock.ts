// The swappable lock of client-go's election: a record read and written with compare-and-swap on
// its version. The memory backend keeps it in a cell of the hub; the Kubernetes backend in a
// coordination.k8s.io/v1 Lease. The rule that decides what to write is core/fleet/election.ts.
import type { LeaseRecord, LockSnapshot } from '../core/fleet/election.js';

export interface LeaseLock {
  /** Names the lock in messages, e.g. `Lease default/inferline-leader`. */
  readonly description: string;
  /** The record and its version; undefined when there is none. */
  get(signal: AbortSignal): Promise<LockSnapshot | undefined>;
  /** @throws LockConflictError when a record exists already. */
  create(record: LeaseRecord, signal: AbortSignal): Promise<LockSnapshot>;
  /** @throws LockConflictError when the version is no longer `version` (or the record is gone). */
  update(record: LeaseRecord, version: string, signal: AbortSignal): Promise<LockSnapshot>;
}

/** A compare-and-swap that lost: somebody else wrote first. Expected, not a failure. */
export class LockConflictError extends Error {
  override readonly name = 'LockConflictError';
}
