// Exports the figure the KEDA scaler serves as a gauge per configured workload
// (inferline.workload.replicas.desired{pipeline, stage, workload}), for an HPA's external metric
// through a Prometheus adapter. Every agent exports it, from the leader's figures or the stored
// ones, so the series does not vanish or go stale when the leader changes: the adapter's query
// takes max by (workload). The label is the workload's name alone: an HPA selects the series with
// matchLabels, whose values cannot hold "/"; Prometheus adds the pod's namespace.
import type { WorkloadConfig } from '../../config/index.js';
import type { Telemetry } from '../../ports/telemetry.js';
import type { DesiredReplicasFeed } from './desired-replicas-feed.js';

/** `Deployment/<namespace>/<name>`: a workload's key in the stored targets and the logs. */
export function workloadKey(w: Pick<WorkloadConfig, 'kind' | 'namespace' | 'name'>): string {
  return `${w.kind}/${w.namespace}/${w.name}`;
}

export function exportWorkloadGauge(feed: DesiredReplicasFeed, workloads: readonly WorkloadConfig[], telemetry: Telemetry): { close(): void } {
  return feed.subscribe((snapshot) => {
    for (const w of workloads) {
      const figure = snapshot?.stages.find((s) => s.pipeline === w.pipeline && s.stage === w.stage);
      if (figure !== undefined) telemetry.recordWorkload({ pipeline: w.pipeline, stage: w.stage, workload: w.name, desiredReplicas: figure.desired });
    }
  });
}
