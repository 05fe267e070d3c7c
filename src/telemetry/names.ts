// Every metric inferline exports, in one place: name, instrument kind, unit, attributes and help.
//
// Conventions (OpenTelemetry semantic conventions for metrics):
// - names are lowercase, dot-separated, under the `inferline.` namespace; no unit in the name;
// - units are UCUM: durations in seconds (`s`), counts of things as `{thing}`, rates as
//   `{request}/s`, dimensionless as `1`;
// - counters count events and are not suffixed `_total` here: the Prometheus exporter appends
//   `_total` to monotonic sums;
// - attributes are plain snake_case words (`pipeline`, `stage`, `hardware`, …), identical across
//   metrics so that PromQL joins and `by (…)` clauses read the same everywhere.
// The Prometheus exporter renders a name by replacing every character outside [a-zA-Z0-9_] with
// `_` (dots become underscores) and appending `_total` to counters; histograms become
// `_bucket`/`_sum`/`_count` series. It writes the unit in a `# UNIT` line, not in the name.

export type InstrumentKind = 'counter' | 'gauge' | 'histogram';

export interface MetricDefinition {
  readonly name: string;
  readonly kind: InstrumentKind;
  readonly unit: string;
  readonly description: string;
  /** Attribute keys every data point carries. */
  readonly attributes: readonly string[];
  /** Explicit bucket boundaries advised for a histogram (in its unit). */
  readonly buckets?: readonly number[];
}

/** Attribute keys. */
export const ATTR = {
  pipeline: 'pipeline',
  stage: 'stage',
  hardware: 'hardware',
  /** Envelope window length in seconds, as a decimal string (`0.1`, `60`). */
  window: 'window',
  /** The percentile an SLO is set at (`99`). */
  percentile: 'percentile',
  /** Planner kind: greedy, exact, coarse. */
  planner: 'planner',
  /** Planner outcome: feasible, infeasible, error. */
  outcome: 'outcome',
  /** Tuner decision kind: scale_up, scale_down, hold. */
  kind: 'kind',
  /** Whether a tuner decision asked for a replan: true, false. */
  replan: 'replan',
  /** Reconcile action: scale_replicas, set_batch, … */
  action: 'action',
  /** Agent mode: enforce (applied) or recommend (reported only). */
  mode: 'mode',
  /** Server kind: triton, torchserve, tfserving. */
  server: 'server',
  /** Method and path template of an adapter request: `GET /v2/models/{model}/stats`. */
  endpoint: 'endpoint',
  /** HTTP status class: 2xx, 3xx, 4xx, 5xx, or `none` when no response came. */
  statusClass: 'status_class',
  /** Why something failed: an AdapterError kind (timeout, unreachable, auth, not-found, http) or an error name. */
  errorType: 'error_type',
  /** The agent's id. */
  agent: 'agent',
  /** What a config reload did: applied, rejected, unchanged. */
  result: 'result',
  /** The name of the Kubernetes Deployment or StatefulSet that runs a stage. */
  workload: 'workload',
} as const;

/** Resource attribute naming the service (OpenTelemetry semantic conventions). */
export const ATTR_SERVICE_NAME = 'service.name';

/** Instrumentation scope of every inferline instrument. */
export const METER_NAME = 'inferline';

/**
 * Buckets for inference latencies from 1 ms to 10 s (seconds): 1-2.5-5 steps per decade, with
 * 25/50/75 ms and 150/250/350 ms added where SLOs of inference pipelines usually sit, so a
 * histogram_quantile near a typical SLO lands between close boundaries.
 */
export const LATENCY_BUCKETS_S: readonly number[] = [
  0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.075,
  0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.5, 0.75, 1, 1.5, 2.5, 5, 7.5, 10,
];

/** Buckets for planner runs (seconds): a greedy search takes milliseconds, an exact one minutes. */
export const PLANNER_DURATION_BUCKETS_S: readonly number[] = [
  0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300,
];

const PS = [ATTR.pipeline, ATTR.stage] as const;
const PSH = [ATTR.pipeline, ATTR.stage, ATTR.hardware] as const;

export const METRICS = {
  // --- traffic
  pipelineArrivalRate: {
    name: 'inferline.pipeline.arrival.rate', kind: 'gauge', unit: '{request}/s', attributes: [ATTR.pipeline],
    description: 'Rate of queries entering the pipeline, over the longest envelope window.',
  },
  stageArrivalRate: {
    name: 'inferline.stage.arrival.rate', kind: 'gauge', unit: '{request}/s', attributes: PS,
    description: 'Rate of queries reaching the stage.',
  },
  envelopeLive: {
    name: 'inferline.pipeline.envelope.live', kind: 'gauge', unit: '{request}', attributes: [ATTR.pipeline, ATTR.window],
    description: 'Live arrival envelope: the most arrivals in any window of the given length over the last 60 s.',
  },
  envelopePlanned: {
    name: 'inferline.pipeline.envelope.planned', kind: 'gauge', unit: '{request}', attributes: [ATTR.pipeline, ATTR.window],
    description: 'Planned arrival envelope: the most arrivals in any window of the given length in the planning trace.',
  },
  stageCapacity: {
    name: 'inferline.stage.capacity', kind: 'gauge', unit: '{request}/s', attributes: PSH,
    description: 'Queries per second the stage\'s current replicas serve at its batch size.',
  },
  // --- latency and the SLO
  requestDuration: {
    name: 'inferline.pipeline.request.duration', kind: 'histogram', unit: 's', attributes: [ATTR.pipeline],
    description: 'End-to-end latency of queries through the pipeline.', buckets: LATENCY_BUCKETS_S,
  },
  latencyP99: {
    name: 'inferline.pipeline.latency.p99', kind: 'gauge', unit: 's', attributes: [ATTR.pipeline],
    description: 'End-to-end P99 latency over the last measurement window.',
  },
  sloLatency: {
    name: 'inferline.pipeline.slo.latency', kind: 'gauge', unit: 's', attributes: [ATTR.pipeline, ATTR.percentile],
    description: 'The pipeline\'s latency objective at its percentile.',
  },
  requests: {
    name: 'inferline.pipeline.requests', kind: 'counter', unit: '{request}', attributes: [ATTR.pipeline],
    description: 'Queries that completed the pipeline.',
  },
  sloMisses: {
    name: 'inferline.pipeline.slo.misses', kind: 'counter', unit: '{request}', attributes: [ATTR.pipeline],
    description: 'Queries whose end-to-end latency exceeded the SLO.',
  },
  // --- provisioning
  replicasDesired: {
    name: 'inferline.stage.replicas.desired', kind: 'gauge', unit: '{replica}', attributes: PSH,
    description: 'Replicas the leader wants for the stage (plan and tuner).',
  },
  replicasActual: {
    name: 'inferline.stage.replicas.actual', kind: 'gauge', unit: '{replica}', attributes: PSH,
    description: 'Replicas the server reports for the stage.',
  },
  batchSize: {
    name: 'inferline.stage.batch.size', kind: 'gauge', unit: '{request}', attributes: PSH,
    description: 'Maximum batch size the stage runs with.',
  },
  cost: {
    name: 'inferline.stage.cost', kind: 'gauge', unit: '{cost}/h', attributes: PSH,
    description: 'Cost per hour of the stage\'s replicas (replicas × the hardware\'s cost per hour).',
  },
  // --- deciding
  plannerRuns: {
    name: 'inferline.planner.runs', kind: 'counter', unit: '{run}', attributes: [ATTR.pipeline, ATTR.planner, ATTR.outcome],
    description: 'Planner runs, by planner kind and outcome.',
  },
  plannerDuration: {
    name: 'inferline.planner.run.duration', kind: 'histogram', unit: 's', attributes: [ATTR.pipeline, ATTR.planner],
    description: 'Wall-clock time of one planner run.', buckets: PLANNER_DURATION_BUCKETS_S,
  },
  planChanges: {
    name: 'inferline.planner.plan.changes', kind: 'counter', unit: '{change}', attributes: [ATTR.pipeline],
    description: 'Plans that differ from the pipeline\'s previous plan (hardware, batch size or replicas of a stage); a pipeline\'s first plan counts.',
  },
  tunerDecisions: {
    name: 'inferline.tuner.decisions', kind: 'counter', unit: '{decision}', attributes: [ATTR.pipeline, ATTR.kind, ATTR.replan],
    description: 'Tuner decisions, by kind (scale_up, scale_down, hold) and whether they asked for a replan.',
  },
  // --- acting
  reconcileActions: {
    name: 'inferline.reconcile.actions', kind: 'counter', unit: '{action}', attributes: [ATTR.pipeline, ATTR.stage, ATTR.action, ATTR.mode],
    description: 'Changes the agent applied to its server (enforce) or only recommended (recommend).',
  },
  reconcileErrors: {
    name: 'inferline.reconcile.errors', kind: 'counter', unit: '{error}', attributes: [ATTR.pipeline, ATTR.stage, ATTR.action, ATTR.errorType],
    description: 'Changes the agent failed to apply.',
  },
  adapterDuration: {
    name: 'inferline.adapter.request.duration', kind: 'histogram', unit: 's', attributes: [ATTR.server, ATTR.endpoint, ATTR.statusClass],
    description: 'Duration of one HTTP exchange between an adapter and its model server (each retry is one exchange).', buckets: LATENCY_BUCKETS_S,
  },
  adapterErrors: {
    name: 'inferline.adapter.request.errors', kind: 'counter', unit: '{error}', attributes: [ATTR.server, ATTR.endpoint, ATTR.errorType],
    description: 'Adapter requests that failed after their retries.',
  },
  shortfall: {
    name: 'inferline.placement.shortfall', kind: 'gauge', unit: '{replica}', attributes: [ATTR.pipeline, ATTR.stage, ATTR.hardware],
    description: 'Replicas a stage needs that no agent of its hardware can host (0 when all are placed).',
  },
  configReloads: {
    name: 'inferline.config.reloads', kind: 'counter', unit: '{reload}', attributes: [ATTR.agent, ATTR.result],
    description: 'Config file reloads (file change or SIGHUP): applied, rejected (the previous config stays) or unchanged.',
  },
  workloadReplicasDesired: {
    name: 'inferline.workload.replicas.desired', kind: 'gauge', unit: '{replica}', attributes: [ATTR.pipeline, ATTR.stage, ATTR.workload],
    description: 'Replicas of a stage the leader wants, by the workload that runs it (placement.workloads): the figure the KEDA external scaler serves; for an HPA external metric, target averageValue = replicas per pod. Every agent exports it.',
  },
  // --- coordination
  leader: {
    name: 'inferline.coordination.leader', kind: 'gauge', unit: '1', attributes: [ATTR.agent],
    description: '1 while this agent is the leader, 0 otherwise.',
  },
  epoch: {
    name: 'inferline.coordination.epoch', kind: 'gauge', unit: '{epoch}', attributes: [ATTR.agent],
    description: 'The fencing epoch of the leader this agent follows (its own when leading).',
  },
} as const satisfies Record<string, MetricDefinition>;

export type MetricKey = keyof typeof METRICS;

/** Every metric definition, in declaration order. */
export const ALL_METRICS: readonly MetricDefinition[] = Object.values(METRICS);

/**
 * The names under which the Prometheus exporter exposes a metric's series: dots (and any
 * character outside [a-zA-Z0-9_]) become `_`, runs of `_` collapse, counters gain `_total`,
 * histograms expose `_bucket`, `_sum` and `_count`.
 */
export function prometheusSeriesNames(def: Pick<MetricDefinition, 'name' | 'kind'>): string[] {
  const base = def.name.replace(/[^a-zA-Z0-9_]/g, '_').replace(/_{2,}/g, '_');
  switch (def.kind) {
    case 'counter': return [base.endsWith('_total') ? base : `${base}_total`];
    case 'histogram': return [`${base}_bucket`, `${base}_sum`, `${base}_count`];
    case 'gauge': return [base];
  }
}
