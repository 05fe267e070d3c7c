// The leader's replicas per stage, for what scales outside the fleet's servers: the KEDA external
// scaler (external-scaler.ts), the Deployment scaler (workload-scaler.ts) and the workload gauge.
// Two slots: what this process decided while it leads (`leader`, published by the Leader on every
// plan and tuner decision) and what the coordinator stores (`stored`, the last leader's figures,
// written fenced by stage-replicas-store.ts). `current` is the leader slot while it is filled,
// else the stored one, so that a follower answers with the leader's last figures and a new leader
// with its own at once. Listeners get `current` after each change; a throwing one is reported and
// the others still run.

export interface StageReplicas {
  readonly pipeline: string;
  readonly stage: string;
  readonly model: string;
  readonly hardware: string;
  /** Replicas of the stage the leader wants now: the plan's, then the tuner's. */
  readonly desired: number;
}

export interface DesiredReplicasSnapshot {
  /** The fencing epoch of the leadership that decided it. */
  readonly epoch: number;
  /** leader: this process leads and decided it; stored: read back from the coordinator. */
  readonly source: 'leader' | 'stored';
  readonly stages: readonly StageReplicas[];
}

export type DesiredReplicasListener = (snapshot: DesiredReplicasSnapshot | undefined) => void;

/** What the Leader needs of the feed. */
export interface DesiredReplicasSink {
  /** The leader's figures now (every stage of every planned pipeline). */
  publishLeader(epoch: number, stages: readonly StageReplicas[]): void;
  /** The leadership of `epoch` ended: its figures are no longer this process's own. */
  withdraw(epoch: number): void;
}

export class DesiredReplicasFeed implements DesiredReplicasSink {
  private leader: DesiredReplicasSnapshot | undefined;
  private stored: DesiredReplicasSnapshot | undefined;
  private readonly listeners = new Set<DesiredReplicasListener>();
  private readonly onError: (err: unknown) => void;
  private lastKey = '';

  constructor(onError: (err: unknown) => void = () => undefined) {
    this.onError = onError;
  }

  get current(): DesiredReplicasSnapshot | undefined {
    return this.leader ?? this.stored;
  }

  /** The desired replicas of one stage now, or undefined when no figure is known. */
  desiredOf(pipeline: string, stage: string): { readonly stage: StageReplicas; readonly snapshot: DesiredReplicasSnapshot } | undefined {
    const snapshot = this.current;
    const found = snapshot?.stages.find((s) => s.pipeline === pipeline && s.stage === stage);
    return snapshot === undefined || found === undefined ? undefined : { stage: found, snapshot };
  }

  publishLeader(epoch: number, stages: readonly StageReplicas[]): void {
    this.leader = { epoch, source: 'leader', stages: stages.map((s) => ({ ...s })) };
    this.changed();
  }

  withdraw(epoch: number): void {
    if (this.leader?.epoch !== epoch) return;
    this.leader = undefined;
    this.changed();
  }

  /** A record read back from the coordinator; one older than the figures already held is ignored. */
  publishStored(epoch: number, stages: readonly StageReplicas[]): void {
    if (this.stored !== undefined && epoch < this.stored.epoch) return;
    this.stored = { epoch, source: 'stored', stages: stages.map((s) => ({ ...s })) };
    this.changed();
  }

  /** Calls `listener` with the current snapshot now (when there is one) and after each change. */
  subscribe(listener: DesiredReplicasListener): { close(): void } {
    this.listeners.add(listener);
    if (this.current !== undefined) this.call(listener, this.current);
    return { close: () => { this.listeners.delete(listener); } };
  }

  private changed(): void {
    const now = this.current;
    const key = JSON.stringify(now ?? null);
    if (key === this.lastKey) return;
    this.lastKey = key;
    for (const l of [...this.listeners]) this.call(l, now);
  }

  private call(listener: DesiredReplicasListener, value: DesiredReplicasSnapshot | undefined): void {
    try {
      listener(value);
    } catch (err) {
      this.onError(err);
    }
  }
}
