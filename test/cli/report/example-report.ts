// A deterministic example SimulationReport: a three-stage pipeline under a burst, run by four
// controllers that behave roughly as their namesakes would. Only for rendering tests; the numbers
// come from a toy queue model, not from the simulator.
import type { ControllerRun, SimulationReport, TimelinePoint } from '../../../src/cli/report/index.js';

export const EXAMPLE_STAGES = ['preprocess', 'resnet152', 'classifier'] as const;
export const EXAMPLE_INTERVALS = 600;
const INTERVAL_MS = 1000;
const QPS_PER_REPLICA = 40;
const SLO_MS = 250;
const COST_PER_REPLICA = [0.1, 0.9, 0.3] as const;

/** Arrivals: 100 qps with a deterministic wobble, a burst to ~260 qps between 200 s and 320 s. */
function arrivalAt(i: number): number {
  const burst = i >= 200 && i < 320 ? 160 * Math.sin(((i - 200) / 120) * Math.PI) : 0;
  return 100 + 12 * Math.sin(i / 7) + 6 * Math.sin(i / 2.3) + burst;
}

function run(controller: string, replicasAt: (i: number, arrival: number) => number, stageOptional = false): ControllerRun {
  const timeline: TimelinePoint[] = [];
  let backlog = 0;
  let actions = 0;
  let prev = -1;
  let costSum = 0;
  let worst = 0;
  let missing = 0;
  for (let i = 0; i < EXAMPLE_INTERVALS; i++) {
    const arrival = arrivalAt(i);
    const entry = replicasAt(i, arrival);
    if (entry !== prev && prev >= 0) actions++;
    prev = entry;
    const capacity = entry * QPS_PER_REPLICA;
    backlog = Math.max(0, backlog + arrival - capacity);
    const util = Math.min(0.99, arrival / capacity);
    const p99 = 60 + 40 / (1 - util) + (backlog / capacity) * 1000;
    const replicas: Record<string, number> = { preprocess: Math.max(1, Math.ceil(entry / 2)), resnet152: entry };
    // A stage the controller only adds under load, to exercise gaps in the replica chart.
    if (!stageOptional || entry > 3) replicas['classifier'] = Math.max(1, Math.ceil(entry / 3));
    const cost = EXAMPLE_STAGES.reduce((sum, s, k) => sum + (replicas[s] ?? 0) * (COST_PER_REPLICA[k] ?? 0), 0);
    costSum += cost;
    worst = Math.max(worst, p99);
    if (p99 > SLO_MS) missing++;
    // One interval with no completed queries, as a gap in the P99 line.
    timeline.push({ tMs: (i + 1) * INTERVAL_MS, arrivalRateQps: arrival, capacityQps: capacity, replicas, p99Ms: i === 450 ? Number.NaN : p99, costPerHour: cost });
  }
  return {
    controller, p99Ms: worst * 0.9, sloMissRate: missing / EXAMPLE_INTERVALS,
    meanCostPerHour: costSum / EXAMPLE_INTERVALS, scalingActions: actions, timeline,
  };
}

/** Replicas that track the arrival rate `lagS` seconds late, with `headroom` spare capacity. */
function tracking(lagS: number, headroom: number): (i: number) => number {
  return (i) => Math.max(1, Math.ceil((arrivalAt(Math.max(0, i - lagS)) * headroom) / QPS_PER_REPLICA));
}

export function exampleReport(): SimulationReport {
  return {
    title: 'Closed-loop simulation: image-classify',
    pipeline: 'image-classify',
    sloMs: SLO_MS,
    percentile: 99,
    workload: 'gamma:rate=100,cv=1,duration=600s + burst 200–320 s',
    seed: 42,
    generatedBy: 'inferline simulate --config config/examples/reference.yaml --pipeline image-classify --controllers inferline,hpa,static-mean,static-peak --report out.html',
    runs: [
      run('inferline', tracking(2, 1.35)),
      run('hpa', tracking(25, 1.15), true),
      run('static-mean', () => 3),
      run('static-peak', () => 10),
    ],
  };
}
