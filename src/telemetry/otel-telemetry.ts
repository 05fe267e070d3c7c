// The Telemetry port on an OpenTelemetry Meter: each record becomes data points on the instruments
// of names.ts. It needs only @opentelemetry/api, so it works on any MeterProvider (the SDK one that
// createTelemetry builds, or a test's).
//
// Gauges are synchronous and keep their last value per attribute set. A stage that moves to other
// hardware would leave its old series at the old value, so when a stage's hardware changes the
// old series of that instrument is set to 0 first: a sum over `hardware` stays right.
import type { Attributes, Counter, Gauge, Histogram, Meter } from '@opentelemetry/api';
import type {
  AdapterErrorRecord, AdapterRequestRecord, ConfigReloadRecord, EnvelopeReading, LatencySample, LeadershipSample, PlannerRunRecord,
  ReconcileRecord, RequestsSample, ShortfallSample, StageSample, Telemetry, TrafficSample, TunerDecisionRecord, WorkloadSample,
} from '../ports/telemetry.js';
import { ATTR, METRICS } from './names.js';
import type { MetricDefinition } from './names.js';

type Instruments = {
  [K in keyof typeof METRICS]: (typeof METRICS)[K]['kind'] extends 'counter' ? Counter
    : (typeof METRICS)[K]['kind'] extends 'histogram' ? Histogram : Gauge
};

/** Creates every instrument of names.ts on `meter`, with its unit, description and bucket advice. */
export function createInstruments(meter: Meter): Instruments {
  const out: Record<string, Counter | Gauge | Histogram> = {};
  for (const [key, def] of Object.entries(METRICS) as [string, MetricDefinition][]) {
    const options = { unit: def.unit, description: def.description };
    switch (def.kind) {
      case 'counter': out[key] = meter.createCounter(def.name, options); break;
      case 'gauge': out[key] = meter.createGauge(def.name, options); break;
      case 'histogram':
        out[key] = meter.createHistogram(def.name, { ...options, ...(def.buckets ? { advice: { explicitBucketBoundaries: [...def.buckets] } } : {}) });
        break;
    }
  }
  return out as Instruments;
}

/** `2xx` … `5xx`, or `none` when no response came. */
export function statusClass(status: number | undefined): string {
  return status === undefined || !Number.isFinite(status) ? 'none' : `${Math.floor(status / 100)}xx`;
}

/** A window length as the `window` attribute: seconds, shortest decimal (`0.1`, `60`). */
export function windowAttribute(windowMs: number): string {
  return String(windowMs / 1000);
}

const finite = (v: number | undefined): v is number => v !== undefined && Number.isFinite(v);

export class OtelTelemetry implements Telemetry {
  private readonly i: Instruments;
  /** Last hardware per instrument and stage, to zero the old series when it changes. */
  private readonly hardwareOf = new Map<string, string>();

  constructor(meter: Meter) {
    this.i = createInstruments(meter);
  }

  recordTraffic(s: TrafficSample): void {
    const base = { [ATTR.pipeline]: s.pipeline };
    if (finite(s.arrivalRateQps)) this.i.pipelineArrivalRate.record(s.arrivalRateQps, base);
    if (s.envelope) this.recordEnvelope(this.i.envelopeLive, s.pipeline, s.envelope);
  }

  recordStage(s: StageSample): void {
    const ps = { [ATTR.pipeline]: s.pipeline, [ATTR.stage]: s.stage };
    if (finite(s.arrivalRateQps)) this.i.stageArrivalRate.record(s.arrivalRateQps, ps);
    const byHardware: [keyof Instruments & string, number | undefined][] = [
      ['replicasDesired', s.desiredReplicas],
      ['replicasActual', s.actualReplicas],
      ['batchSize', s.batchSize],
      ['stageCapacity', s.capacityQps],
      ['cost', s.costPerHour],
    ];
    for (const [key, value] of byHardware) {
      if (!finite(value)) continue;
      const gauge = this.i[key] as Gauge;
      const seen = `${key}\u0000${s.pipeline}\u0000${s.stage}`;
      const before = this.hardwareOf.get(seen);
      if (before !== undefined && before !== s.hardware) gauge.record(0, { ...ps, [ATTR.hardware]: before });
      this.hardwareOf.set(seen, s.hardware);
      gauge.record(value, { ...ps, [ATTR.hardware]: s.hardware });
    }
  }

  recordRequests(s: RequestsSample): void {
    const base = { [ATTR.pipeline]: s.pipeline };
    if (finite(s.completed) && s.completed > 0) this.i.requests.add(s.completed, base);
    if (finite(s.sloMisses) && s.sloMisses > 0) this.i.sloMisses.add(s.sloMisses, base);
    for (const ms of s.latenciesMs ?? []) if (finite(ms) && ms >= 0) this.i.requestDuration.record(ms / 1000, base);
  }

  recordLatency(s: LatencySample): void {
    const base = { [ATTR.pipeline]: s.pipeline };
    if (finite(s.p99Ms)) this.i.latencyP99.record(s.p99Ms / 1000, base);
    if (finite(s.sloMs)) this.i.sloLatency.record(s.sloMs / 1000, { ...base, [ATTR.percentile]: String(s.percentile) });
  }

  recordPlannerRun(r: PlannerRunRecord): void {
    const base = { [ATTR.pipeline]: r.pipeline, [ATTR.planner]: r.planner };
    this.i.plannerRuns.add(1, { ...base, [ATTR.outcome]: r.outcome });
    if (finite(r.durationMs) && r.durationMs >= 0) this.i.plannerDuration.record(r.durationMs / 1000, base);
    if (r.changed) this.i.planChanges.add(1, { [ATTR.pipeline]: r.pipeline });
    if (r.envelope) this.recordEnvelope(this.i.envelopePlanned, r.pipeline, r.envelope);
  }

  recordTunerDecision(r: TunerDecisionRecord): void {
    this.i.tunerDecisions.add(1, { [ATTR.pipeline]: r.pipeline, [ATTR.kind]: r.kind, [ATTR.replan]: String(r.replan) });
  }

  recordReconcile(r: ReconcileRecord): void {
    const base: Attributes = { [ATTR.pipeline]: r.pipeline, [ATTR.stage]: r.stage, [ATTR.action]: r.action };
    if (r.errorType === undefined) this.i.reconcileActions.add(1, { ...base, [ATTR.mode]: r.mode });
    else this.i.reconcileErrors.add(1, { ...base, [ATTR.errorType]: r.errorType });
  }

  recordAdapterRequest(r: AdapterRequestRecord): void {
    if (!finite(r.durationMs) || r.durationMs < 0) return;
    this.i.adapterDuration.record(r.durationMs / 1000, {
      [ATTR.server]: r.server, [ATTR.endpoint]: r.endpoint, [ATTR.statusClass]: statusClass(r.status),
    });
  }

  recordAdapterError(r: AdapterErrorRecord): void {
    this.i.adapterErrors.add(1, { [ATTR.server]: r.server, [ATTR.endpoint]: r.endpoint, [ATTR.errorType]: r.errorType });
  }

  recordLeadership(s: LeadershipSample): void {
    const base = { [ATTR.agent]: s.agent };
    this.i.leader.record(s.leader ? 1 : 0, base);
    if (finite(s.epoch)) this.i.epoch.record(s.epoch, base);
  }

  recordShortfall(s: ShortfallSample): void {
    if (finite(s.missing)) this.i.shortfall.record(s.missing, { [ATTR.pipeline]: s.pipeline, [ATTR.stage]: s.stage, [ATTR.hardware]: s.hardware });
  }

  recordConfigReload(r: ConfigReloadRecord): void {
    this.i.configReloads.add(1, { [ATTR.agent]: r.agent, [ATTR.result]: r.result });
  }

  recordWorkload(s: WorkloadSample): void {
    if (finite(s.desiredReplicas)) this.i.workloadReplicasDesired.record(s.desiredReplicas, { [ATTR.pipeline]: s.pipeline, [ATTR.stage]: s.stage, [ATTR.workload]: s.workload });
  }

  private recordEnvelope(gauge: Gauge, pipeline: string, envelope: readonly EnvelopeReading[]): void {
    for (const p of envelope) {
      if (!finite(p.maxArrivals) || !finite(p.windowMs)) continue;
      gauge.record(p.maxArrivals, { [ATTR.pipeline]: pipeline, [ATTR.window]: windowAttribute(p.windowMs) });
    }
  }
}
