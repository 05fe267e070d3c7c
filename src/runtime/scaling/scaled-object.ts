// Which stage a KEDA ScaledObject asks about, and the figures KEDA gets for it. Pure.
// A trigger's metadata reaches the scaler as ScaledObjectRef.scalerMetadata: it names the stage
// (`pipeline` and `stage`, or `workload`: a placement.workloads[].name) and optionally
// `replicasPerPod` (else the workload's, else 1). KEDA's HPA takes the metric as an AverageValue:
// pods = ceil(metric / target), so metric = the stage's desired replicas and target =
// replicasPerPod gives pods = ceil(desired / replicasPerPod), the figure the Deployment scaler
// patches too (workload-target.ts).
import type { WorkloadConfig } from '../../config/index.js';

export interface ScaledObjectRefMessage {
  readonly name?: string;
  readonly namespace?: string;
  readonly scalerMetadata?: Readonly<Record<string, string>>;
}

export interface ScaledStage {
  readonly pipeline: string;
  readonly stage: string;
  readonly replicasPerPod: number;
  /** The configured workload of the stage, when there is one. */
  readonly workload?: string;
  readonly metricName: string;
}

/** A ScaledObjectRef that names no stage inferline knows: KEDA gets INVALID_ARGUMENT. */
export class ScaledObjectRefError extends Error {
  override readonly name = 'ScaledObjectRefError';
}

export function resolveScaledObject(ref: ScaledObjectRefMessage, workloads: readonly WorkloadConfig[]): ScaledStage {
  const md = ref.scalerMetadata ?? {};
  const who = `ScaledObject ${ref.namespace ?? ''}/${ref.name ?? ''}`;
  let pipeline = md['pipeline'];
  let stage = md['stage'];
  let workload: WorkloadConfig | undefined;
  if (md['workload'] !== undefined) {
    workload = workloads.find((w) => w.name === md['workload'] && (ref.namespace === undefined || ref.namespace === '' || w.namespace === ref.namespace))
      ?? workloads.find((w) => w.name === md['workload']);
    if (workload === undefined) {
      throw new ScaledObjectRefError(`${who}: metadata.workload "${md['workload']}" is not a placement.workloads[].name (${workloads.map((w) => w.name).join(', ') || 'none configured'})`);
    }
    pipeline ??= workload.pipeline;
    stage ??= workload.stage;
  }
  if (pipeline === undefined || pipeline === '' || stage === undefined || stage === '') {
    throw new ScaledObjectRefError(`${who}: the trigger's metadata must name the stage: pipeline and stage, or workload`);
  }
  workload ??= workloads.find((w) => w.pipeline === pipeline && w.stage === stage);
  let replicasPerPod = workload?.replicasPerPod ?? 1;
  const perPod = md['replicasPerPod'];
  if (perPod !== undefined) {
    if (!/^[1-9]\d{0,5}$/.test(perPod)) throw new ScaledObjectRefError(`${who}: metadata.replicasPerPod "${perPod}" must be a whole number ≥ 1`);
    replicasPerPod = Number(perPod);
  }
  return {
    pipeline, stage, replicasPerPod, metricName: metricNameOf(pipeline, stage),
    ...(workload === undefined ? {} : { workload: workload.name }),
  };
}

/** `inferline-<pipeline>-<stage>`, lowercased, anything but [a-z0-9-] as "-" (KEDA prefixes it with the trigger index). */
export function metricNameOf(pipeline: string, stage: string): string {
  return `inferline-${pipeline}-${stage}`.toLowerCase().replace(/[^a-z0-9-]+/g, '-');
}
