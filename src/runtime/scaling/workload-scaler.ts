// The kubernetes-scale placement backend: while this agent leads, each configured workload
// (the Deployment or StatefulSet that runs a stage) is kept at ceil(desired replicas /
// replicasPerPod) pods through its scale subresource. The figures are the leader's
// (DesiredReplicasFeed, source `leader`), on every change and every resync interval.
// The change is decided by the reconciler's own rule (core/reconcile: bounds = the workload's
// min/max, at most agent.reconcile.maxStepUp / maxStepDown pods per action, the scale-down
// cooldown, the rate limit, mode recommend = report only), then fenced like every desired-state
// write: the target is written under WORKLOAD_SCALE_KEY with the leader's epoch first, and the
// PATCH is sent only when that write was accepted — a deposed leader's StaleEpochError means the
// patch is never sent. The PATCH carries the resourceVersion read, so a concurrent change (an HPA,
// a person) is a 409: read again, decide again, a few times.
import type { WorkloadConfig } from '../../config/index.js';
import { decideReconcile, initialReconcileState } from '../../core/reconcile/index.js';
import type { ReconcilePolicy, ReconcileState } from '../../core/reconcile/index.js';
import type { Clock } from '../../ports/clock.js';
import type { Coordinator, JsonValue } from '../../ports/coordinator.js';
import type { Logger } from '../../ports/logger.js';
import type { AdapterCapabilities } from '../../ports/server-adapter.js';
import type { Telemetry } from '../../ports/telemetry.js';
import { describeWorkload } from '../../ports/workload-scale.js';
import type { WorkloadRef, WorkloadScaleClient, WorkloadScaleStatus } from '../../ports/workload-scale.js';
import { PeriodicTask } from '../../platform/periodic.js';
import type { DesiredReplicasFeed, DesiredReplicasSnapshot } from './desired-replicas-feed.js';
import { workloadKey } from './workload-gauge.js';

/** The desired-state key of the workload targets; agent ids cannot start with "_". */
export const WORKLOAD_SCALE_KEY = '_workload-scale';

/** Reads and decisions again after a 409, before waiting for the next change or resync. */
const CONFLICT_ATTEMPTS = 3;

const SCALE_CAPABILITIES: AdapterCapabilities = { replicas: 'live', batching: 'unsupported', perBatchStats: false, profiling: false, warnings: [] };

export interface WorkloadScalerOptions {
  readonly coordinator: Coordinator;
  readonly client: WorkloadScaleClient;
  readonly feed: DesiredReplicasFeed;
  readonly workloads: readonly WorkloadConfig[];
  /** mode, steps, cooldown and rate limit (the agent's reconcile policy); min/max come from each workload. */
  readonly policy: ReconcilePolicy;
  readonly clock: Clock;
  readonly log: Logger;
  readonly telemetry?: Telemetry;
  /** How often the workloads are read again and brought to the figures (default 15 s). */
  readonly resyncMs?: number;
}

/** The last outcome per workload, for status and tests. */
export interface WorkloadScaleOutcome {
  readonly workload: string;
  readonly pipeline: string;
  readonly stage: string;
  readonly atMs: number;
  readonly epoch: number;
  readonly target: number;
  readonly observed?: number;
  readonly result: 'patched' | 'unchanged' | 'held' | 'fenced' | 'failed';
  readonly detail?: string;
  readonly errorName?: string;
}

export class WorkloadScaler {
  private readonly o: WorkloadScalerOptions;
  private state: ReconcileState = initialReconcileState();
  private readonly resync: PeriodicTask;
  private sub: { close(): void } | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  /** An epoch the coordinator refused: no patch of it or older is ever tried again. */
  private fencedEpoch = 0;
  private readonly outcomes = new Map<string, WorkloadScaleOutcome>();
  private readonly reported = new Set<string>();
  private targets: Record<string, { replicas: number; pipeline: string; stage: string }> = {};
  private started = false;

  constructor(options: WorkloadScalerOptions) {
    this.o = options;
    this.resync = new PeriodicTask({ name: 'workload-scale', intervalMs: options.resyncMs ?? 15_000, clock: options.clock, onError: (err) => options.log.error(`workload scaling failed: ${String(err)}`) }, () => this.trigger());
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.sub = this.o.feed.subscribe(() => { void this.trigger(); });
    this.resync.start();
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    this.sub?.close();
    await this.resync.stop();
    await this.running;
  }

  status(): readonly WorkloadScaleOutcome[] {
    return [...this.outcomes.values()];
  }

  /** One pass over every workload with the current figures, after the running one if any. */
  trigger(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        const snapshot = this.o.feed.current;
        if (!this.started || snapshot?.source !== 'leader' || snapshot.epoch <= this.fencedEpoch) break;
        for (const w of this.o.workloads) {
          if (!this.started || snapshot.epoch <= this.fencedEpoch) break;
          await this.scaleOne(w, snapshot);
        }
      } while (this.again && this.started);
    })().finally(() => { this.running = undefined; });
    return this.running;
  }

  private async scaleOne(w: WorkloadConfig, snapshot: DesiredReplicasSnapshot): Promise<void> {
    const figure = snapshot.stages.find((s) => s.pipeline === w.pipeline && s.stage === w.stage);
    if (figure === undefined) return;
    const ref: WorkloadRef = { kind: w.kind, namespace: w.namespace, name: w.name };
    const key = workloadKey(w);
    const target = Math.ceil(figure.desired / w.replicasPerPod);
    const outcome = (o: Omit<WorkloadScaleOutcome, 'workload' | 'pipeline' | 'stage' | 'atMs' | 'epoch' | 'target'>): void => {
      this.outcomes.set(key, { workload: key, pipeline: w.pipeline, stage: w.stage, atMs: this.o.clock.nowMs(), epoch: snapshot.epoch, target, ...o });
    };
    for (let attempt = 1; attempt <= CONFLICT_ATTEMPTS; attempt++) {
      let current: WorkloadScaleStatus;
      try {
        current = await this.o.client.read(ref);
      } catch (err) {
        this.failed(w, key, err, outcome);
        return;
      }
      const { decision, state } = decideReconcile({
        nowMs: this.o.clock.nowMs(),
        desired: { epoch: snapshot.epoch, models: [{ model: key, replicas: target }] },
        observed: [{ model: key, ready: true, replicas: current.replicas, device: 'unknown', maxBatchSize: 1 }],
        capabilities: SCALE_CAPABILITIES,
        policy: { ...this.o.policy, minReplicas: w.minReplicas, maxReplicas: w.maxReplicas },
      }, this.state);
      const action = decision.actions.find((a) => a.kind === 'replicas');
      if (action === undefined || action.kind !== 'replicas') {
        this.state = state;
        const held = decision.recommendations[0];
        if (held === undefined) {
          outcome({ observed: current.replicas, result: 'unchanged' });
          return;
        }
        const line = `${describeWorkload(ref)}: ${held.kind === 'replicas' ? `${held.from}→${held.to} pods` : ''} held: ${held.why}`;
        outcome({ observed: current.replicas, result: 'held', detail: line });
        this.once(line, () => {
          this.o.log.info(`recommend: ${line} (${w.pipeline}/${w.stage} wants ${figure.desired} replicas, ${w.replicasPerPod} per pod)`, { workload: key });
          if (this.o.policy.mode === 'recommend') this.o.telemetry?.recordReconcile({ pipeline: w.pipeline, stage: w.stage, action: 'scale_workload', mode: 'recommend' });
        });
        return;
      }
      // Fenced like every desired-state write: a stale leader's target is refused before any patch.
      if (!this.leads(snapshot.epoch)) return;
      this.targets = { ...this.targets, [key]: { replicas: action.to, pipeline: w.pipeline, stage: w.stage } };
      try {
        await this.o.coordinator.writeDesired(WORKLOAD_SCALE_KEY, { workloads: this.targets } as unknown as JsonValue, snapshot.epoch);
      } catch (err) {
        if (err instanceof Error && err.name === 'StaleEpochError') {
          this.fencedEpoch = Math.max(this.fencedEpoch, snapshot.epoch);
          outcome({ observed: current.replicas, result: 'fenced', detail: err.message, errorName: err.name });
          this.o.log.warn(`${describeWorkload(ref)} not scaled: ${err.message}`, { workload: key, epoch: snapshot.epoch });
          return;
        }
        this.failed(w, key, err, outcome);
        return;
      }
      if (!this.leads(snapshot.epoch)) return;
      try {
        const after = await this.o.client.patch(ref, action.to, current.resourceVersion);
        this.state = state;
        outcome({ observed: after.replicas, result: 'patched', detail: `${action.from}→${action.to} pods (${action.reason})` });
        this.o.telemetry?.recordReconcile({ pipeline: w.pipeline, stage: w.stage, action: 'scale_workload', mode: 'enforce' });
        this.o.log.info(`scaled ${describeWorkload(ref)} ${action.from}→${action.to} pods: ${w.pipeline}/${w.stage} wants ${figure.desired} replicas, ${w.replicasPerPod} per pod (${action.reason})`, {
          workload: key, epoch: snapshot.epoch,
        });
        this.reported.clear();
        return;
      } catch (err) {
        if (err instanceof Error && err.name === 'ScaleConflictError' && attempt < CONFLICT_ATTEMPTS) continue;
        this.failed(w, key, err, outcome);
        return;
      }
    }
  }

  private failed(w: WorkloadConfig, key: string, err: unknown, outcome: (o: Omit<WorkloadScaleOutcome, 'workload' | 'pipeline' | 'stage' | 'atMs' | 'epoch' | 'target'>) => void): void {
    const message = err instanceof Error ? err.message : String(err);
    const errorName = err instanceof Error ? err.name : 'Error';
    outcome({ result: 'failed', detail: message, errorName });
    this.o.telemetry?.recordReconcile({ pipeline: w.pipeline, stage: w.stage, action: 'scale_workload', mode: this.o.policy.mode, errorType: errorName });
    this.once(`${key} ${message}`, () => this.o.log.error(`workload scaling failed: ${message}`, { workload: key, error: errorName }));
  }

  /** This process still leads with `epoch` (its Leader has not withdrawn the figures). */
  private leads(epoch: number): boolean {
    const now = this.o.feed.current;
    return this.started && now?.source === 'leader' && now.epoch === epoch && epoch > this.fencedEpoch;
  }

  /** Logs a repeated condition once until something changes. */
  private once(key: string, log: () => void): void {
    if (this.reported.has(key)) return;
    this.reported.add(key);
    log();
  }
}
