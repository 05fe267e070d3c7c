// Public surface of scaling beyond the fleet's servers, and the one place that starts its parts
// for an agent: the stored stage figures (every agent), the workload gauge (every agent with
// placement.workloads), the KEDA external scaler (placement.externalScaler.enabled) and the
// Deployment scaler (placement.backend kubernetes-scale, acting only while this agent leads).
import type { InferlineConfig } from '../../config/index.js';
import type { ReconcilePolicy } from '../../core/reconcile/index.js';
import type { Clock } from '../../ports/clock.js';
import type { Coordinator } from '../../ports/coordinator.js';
import type { Logger } from '../../ports/logger.js';
import type { Telemetry } from '../../ports/telemetry.js';
import type { WorkloadScaleClient } from '../../ports/workload-scale.js';
import type { DesiredReplicasFeed } from './desired-replicas-feed.js';
// Only the type: the server (and gRPC with it, 13 MB of RSS) loads when the scaler is enabled.
import type { ExternalScalerServer } from './external-scaler.js';
import { StageReplicasStore } from './stage-replicas-store.js';
import { exportWorkloadGauge } from './workload-gauge.js';
import { WorkloadScaler } from './workload-scaler.js';

export { DesiredReplicasFeed } from './desired-replicas-feed.js';
export type { DesiredReplicasSink, DesiredReplicasSnapshot, StageReplicas } from './desired-replicas-feed.js';
export type { ExternalScalerServer } from './external-scaler.js';
export { STAGE_REPLICAS_KEY, StageReplicasStore } from './stage-replicas-store.js';
export { WORKLOAD_SCALE_KEY, WorkloadScaler } from './workload-scaler.js';
export { exportWorkloadGauge, workloadKey } from './workload-gauge.js';

export interface ScalingDeps {
  readonly config: InferlineConfig;
  /** Started. */
  readonly coordinator: Coordinator;
  /** The feed the Agent hands its Leader. */
  readonly feed: DesiredReplicasFeed;
  /** Mode, steps, cooldown and rate limit of the Deployment scaler (the agent's reconcile policy). */
  readonly policy: ReconcilePolicy;
  /** Needed when placement.backend is kubernetes-scale. */
  readonly scaleClient?: WorkloadScaleClient;
  readonly clock: Clock;
  readonly telemetry: Telemetry;
  readonly log: Logger;
}

export interface RunningScaling {
  readonly externalScaler: ExternalScalerServer | undefined;
  readonly workloadScaler: WorkloadScaler | undefined;
  /** Stops every part, in reverse order; idempotent. */
  stop(): Promise<void>;
}

export async function startScaling(deps: ScalingDeps): Promise<RunningScaling> {
  const { config, coordinator, feed, log } = deps;
  const placement = config.placement;
  const store = new StageReplicasStore({ coordinator, feed, log });
  await store.start();
  const gauge = placement.workloads.length > 0 ? exportWorkloadGauge(feed, placement.workloads, deps.telemetry) : undefined;
  let externalScaler: ExternalScalerServer | undefined;
  let workloadScaler: WorkloadScaler | undefined;
  try {
    if (placement.externalScaler.enabled) {
      const { ExternalScalerServer } = await import('./external-scaler.js');
      externalScaler = await ExternalScalerServer.start({ host: placement.externalScaler.host, port: placement.externalScaler.port, feed, workloads: placement.workloads, log });
    }
    if (placement.backend === 'kubernetes-scale') {
      if (deps.scaleClient === undefined) throw new Error('placement.backend kubernetes-scale needs a Kubernetes scale client');
      workloadScaler = new WorkloadScaler({
        coordinator, client: deps.scaleClient, feed, workloads: placement.workloads, policy: deps.policy, clock: deps.clock, log, telemetry: deps.telemetry,
      });
      workloadScaler.start();
    }
  } catch (err) {
    await externalScaler?.stop();
    gauge?.close();
    await store.stop();
    throw err;
  }
  let stopping: Promise<void> | undefined;
  return {
    externalScaler,
    workloadScaler,
    stop: () => {
      stopping ??= (async () => {
        await workloadScaler?.stop();
        await externalScaler?.stop();
        gauge?.close();
        await store.stop();
      })();
      return stopping;
    },
  };
}
