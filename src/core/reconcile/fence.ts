// Fencing on the agent's side: whether a desired-state record read from the coordinator may be
// enforced. The backend already refuses a write whose epoch is not the current leadership's, but a
// record can still reach the store around it (a zombie leader's write replayed with admin rights, a
// restored backup, a hand edit), and a process that just started has seen no epoch at all. So the
// agent judges every record against the newest leader epoch it can read, and against the epoch of
// the record it enforces now: epochs only grow, so a record below either is stale for good.
// Pure: the agent feeds it the epochs it knows; no I/O, no clock.

export interface FenceSnapshot {
  /** The epoch of the record to judge. */
  readonly recordEpoch: number;
  /** The newest leader epoch this agent has read (0 while it has read none). */
  readonly leaderEpoch: number;
  /** The epoch of the record the agent enforces now (0 while it enforces none). */
  readonly enforcedEpoch: number;
}

export type FenceVerdict =
  /** Written under the current leadership (or the one this agent enforces, not yet replaced). */
  | { readonly kind: 'apply' }
  /** Below an epoch already seen: never to be enforced. */
  | { readonly kind: 'stale'; readonly reason: string }
  /** Above every leader epoch read so far: read the leader again before trusting it. */
  | { readonly kind: 'confirm'; readonly reason: string }
  /** No leader epoch read yet (just started, no leader): wait for one. */
  | { readonly kind: 'wait'; readonly reason: string };

export function judgeDesired(s: FenceSnapshot): FenceVerdict {
  const floor = Math.max(s.leaderEpoch, s.enforcedEpoch);
  if (!Number.isSafeInteger(s.recordEpoch) || s.recordEpoch < 1) return { kind: 'stale', reason: `epoch ${s.recordEpoch} is not a leader epoch` };
  if (s.recordEpoch < floor) {
    const by = s.leaderEpoch >= s.enforcedEpoch ? `the current leader epoch ${s.leaderEpoch}` : `the enforced record's epoch ${s.enforcedEpoch}`;
    return { kind: 'stale', reason: `epoch ${s.recordEpoch} is older than ${by}` };
  }
  if (s.leaderEpoch === 0) return { kind: 'wait', reason: `epoch ${s.recordEpoch} cannot be checked yet: no leader epoch read` };
  if (s.recordEpoch > s.leaderEpoch) return { kind: 'confirm', reason: `epoch ${s.recordEpoch} is newer than the leader epoch ${s.leaderEpoch} last read` };
  return { kind: 'apply' };
}
