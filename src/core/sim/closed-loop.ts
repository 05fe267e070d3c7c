// The closed-loop harness: one pipeline, one plan, one trace, and a controller in the loop, run
// through the estimator. Every controller starts from the same place and runs on the same trace
// and seed, so their figures compare:
// - inferline: the plan, then the tuner (network-calculus envelopes);
// - hpa: the plan's hardware and batch sizes, scaled by a Kubernetes-HPA-like utilisation rule;
// - ray: the same, scaled by a Ray-Serve-like ongoing-requests rule;
// - static-mean / static-peak: the plan provisioned by the tuner's own rule (Tuner.replicasFor)
//   for a steady stream at the trace's mean rate, or for the whole trace's envelope (its worst
//   burst at every window), at the planned hardware and batch sizes, never changed (both known in
//   advance: oracles);
// - coarse: the coarse-grained plan, scaled as one unit by the same tuner.
// With `liveLoop` the tuner-driven controllers (inferline, coarse) run inside the live loop's
// delays (core/controllers/live-loop.ts: scrape interval, push rule, decision-to-server delay); each hardware's
// activation delay applies to every controller. Without it the loop is ideal: every arrival seen at
// once, every decision applied at once (the paper's setting).
import { compilePipeline } from '../model/pipeline.js';
import type { CompiledPipeline } from '../model/pipeline.js';
import { Estimator } from './estimator.js';
import type { ClosedLoopEstimate, Controller } from './estimator.js';
import type { ProfileSet } from '../model/profiles.js';
import type { HardwareType, PipelineSpec, StageConfig } from '../model/types.js';
import { computeEnvelope } from '../arrival/envelope.js';
import type { EnvelopePoint } from '../arrival/envelope.js';
import { createTuner } from '../tuner/tuner.js';
import type { TunerOptions } from '../tuner/tuner.js';
import { tunerPlanOf } from '../tuner/tuner-plan.js';
import type { PlanForTuner } from '../tuner/tuner-plan.js';
import { tunerController } from '../controllers/tuner-controller.js';
import { DEFAULT_HPA, hpaController } from '../controllers/hpa.js';
import { DEFAULT_RAY, rayController } from '../controllers/ray.js';
import { staticController } from '../controllers/static.js';
import type { LiveLoopModel } from '../controllers/live-loop.js';

export type ControllerKind = 'inferline' | 'hpa' | 'ray' | 'static-mean' | 'static-peak' | 'coarse';
export const CONTROLLER_KINDS: readonly ControllerKind[] = ['inferline', 'hpa', 'ray', 'static-mean', 'static-peak', 'coarse'];

/** The parts of a plan the loop needs: what the tuner needs. */
export type PlanForLoop = PlanForTuner;

export interface ClosedLoopRequest {
  readonly pipeline: PipelineSpec;
  readonly hardware: readonly HardwareType[];
  readonly profiles: ProfileSet;
  readonly plan: PlanForLoop;
  /** The coarse-grained plan, for the `coarse` controller. */
  readonly coarsePlan?: PlanForLoop;
  readonly trace: Float64Array;
  readonly seed: number;
  readonly controller: ControllerKind;
  readonly tuner?: Partial<TunerOptions>;
  /** Tuner tick (default 250 ms). */
  readonly tickMs?: number;
  readonly maxReplicasPerStage: number;
  readonly timelineIntervalMs?: number;
  /** InferLine only: let the tuner also raise batch sizes where the estimator shows an equal tail for less (off by default). */
  readonly batchAware?: { readonly intervalMs: number; readonly windowMs: number };
  /**
   * The live loop's delays around the tuner (inferline, coarse): DEFAULT_LIVE_LOOP for the agent's
   * defaults, or the values of the run to predict. Default: none (an ideal loop).
   */
  readonly liveLoop?: LiveLoopModel;
}

export interface ClosedLoopRun {
  readonly result: ClosedLoopEstimate;
  readonly initial: Readonly<Record<string, StageConfig>>;
  readonly controller: Controller;
}

export function runClosedLoop(req: ClosedLoopRequest): ClosedLoopRun {
  const compiled = compilePipeline(req.pipeline);
  const estimator = new Estimator(compiled, req.profiles);
  const hw = new Map(req.hardware.map((h) => [h.name, h]));
  const plan = req.controller === 'coarse' ? req.coarsePlan : req.plan;
  if (!plan) throw new RangeError('the coarse controller needs the coarse-grained plan');
  const initial = initialConfig(req, compiled, estimator, plan);
  const minReplicas: Record<string, number> = {};
  const maxReplicas: Record<string, number> = {};
  const activationDelayMs: Record<string, number> = {};
  const pricePerHour: Record<string, number> = {};
  compiled.spec.stages.forEach((s) => {
    const c = initial[s.name] as StageConfig;
    minReplicas[s.name] = s.minReplicas ?? 1;
    maxReplicas[s.name] = Math.min(s.maxReplicas ?? Infinity, req.maxReplicasPerStage);
    activationDelayMs[s.name] = hw.get(c.hardware)?.activationDelayMs ?? 0;
    pricePerHour[s.name] = hw.get(c.hardware)?.costPerHour ?? 0;
  });
  const tickMs = req.tickMs ?? 250;
  let controller: Controller;
  switch (req.controller) {
    case 'inferline':
    case 'coarse': {
      const unit = req.controller === 'coarse';
      const tunerPlan = tunerPlanOf(plan, compiled, estimator, req.hardware, req.maxReplicasPerStage);
      const batchAware = req.batchAware && !unit ? {
        estimator: new Estimator(compiled, req.profiles),
        intervalMs: req.batchAware.intervalMs,
        windowMs: req.batchAware.windowMs,
        initial,
        batchSizes: Object.fromEntries(compiled.spec.stages.map((s) => {
          const c = initial[s.name] as StageConfig;
          const sizes = req.profiles.get(s.model, c.hardware)?.batchSizes ?? [];
          return [s.name, sizes.filter((b) => b <= (s.maxBatch ?? Infinity))];
        })),
        pricePerHour, minReplicas, sloMs: req.pipeline.slo.latencyMs, percentile: req.pipeline.slo.percentile, seed: req.seed,
      } : undefined;
      controller = tunerController({
        name: req.controller, tuner: createTuner(tunerPlan, req.tuner), tickMs, unit, ...(batchAware ? { batchAware } : {}), ...(req.liveLoop ? { liveLoop: req.liveLoop } : {}),
      });
      break;
    }
    case 'hpa':
      controller = hpaController({ ...DEFAULT_HPA, minReplicas, maxReplicas });
      break;
    case 'ray':
      controller = rayController({ ...DEFAULT_RAY, minReplicas, maxReplicas });
      break;
    default:
      controller = staticController(req.controller);
  }
  const result = estimator.estimateClosedLoop(initial, req.trace, {
    seed: req.seed,
    sloMs: req.pipeline.slo.latencyMs,
    percentile: req.pipeline.slo.percentile,
    controller,
    maxReplicas,
    activationDelayMs,
    pricePerHour,
    timelineIntervalMs: req.timelineIntervalMs ?? 1000,
  });
  return { result, initial, controller };
}

/** The starting configuration of each controller. */
function initialConfig(req: ClosedLoopRequest, compiled: CompiledPipeline, estimator: Estimator, plan: PlanForLoop): Record<string, StageConfig> {
  const out: Record<string, StageConfig> = {};
  let staticReplicas: Record<string, number> | undefined;
  if (req.controller === 'static-mean' || req.controller === 'static-peak') {
    const tuner = createTuner(tunerPlanOf(plan, compiled, estimator, req.hardware, req.maxReplicasPerStage), req.tuner);
    staticReplicas = tuner.replicasFor(staticEnvelope(req.controller, req.trace, plan));
  }
  compiled.spec.stages.forEach((s) => {
    const c = plan.stages[s.name];
    if (!c) throw new RangeError(`the plan has no stage "${s.name}"`);
    out[s.name] = { hardware: c.hardware, batchSize: c.batchSize, replicas: staticReplicas?.[s.name] ?? c.replicas };
  });
  return out;
}

/**
 * The traffic the static baselines provision for, as an envelope at the plan's windows: the whole
 * trace's (static-peak: its worst burst at every window), or a steady stream at its mean rate
 * (static-mean). Both are known only once the trace is over: oracles.
 */
export function staticEnvelope(kind: 'static-mean' | 'static-peak', trace: Float64Array, plan: Pick<PlanForLoop, 'envelope'>): EnvelopePoint[] {
  const windows = plan.envelope.map((p) => p.windowMs);
  if (kind === 'static-peak') return computeEnvelope(trace, windows);
  const rate = meanRate(trace);
  return windows.map((windowMs) => ({ windowMs, maxArrivals: (rate * windowMs) / 1000, rateQps: rate }));
}

export function meanRate(trace: Float64Array): number {
  const n = trace.length;
  if (n < 2) return n;
  const span = (trace[n - 1] as number) - (trace[0] as number);
  return span > 0 ? n / span : n;
}
