// A Telemetry that keeps every record, for tests of the parts that record through the port.
import type {
  AdapterErrorRecord, AdapterRequestRecord, ConfigReloadRecord, LatencySample, LeadershipSample, PlannerRunRecord, ReconcileRecord,
  RequestsSample, ShortfallSample, StageSample, Telemetry, TrafficSample, TunerDecisionRecord, WorkloadSample,
} from '../../src/ports/telemetry.js';

export class FakeTelemetry implements Telemetry {
  readonly traffic: TrafficSample[] = [];
  readonly stages: StageSample[] = [];
  readonly requests: RequestsSample[] = [];
  readonly latencies: LatencySample[] = [];
  readonly plannerRuns: PlannerRunRecord[] = [];
  readonly tunerDecisions: TunerDecisionRecord[] = [];
  readonly reconciles: ReconcileRecord[] = [];
  readonly adapterRequests: AdapterRequestRecord[] = [];
  readonly adapterErrors: AdapterErrorRecord[] = [];
  readonly leadership: LeadershipSample[] = [];
  readonly shortfalls: ShortfallSample[] = [];
  readonly configReloads: ConfigReloadRecord[] = [];
  readonly workloads: WorkloadSample[] = [];

  recordTraffic(s: TrafficSample): void { this.traffic.push(s); }
  recordStage(s: StageSample): void { this.stages.push(s); }
  recordRequests(s: RequestsSample): void { this.requests.push(s); }
  recordLatency(s: LatencySample): void { this.latencies.push(s); }
  recordPlannerRun(r: PlannerRunRecord): void { this.plannerRuns.push(r); }
  recordTunerDecision(r: TunerDecisionRecord): void { this.tunerDecisions.push(r); }
  recordReconcile(r: ReconcileRecord): void { this.reconciles.push(r); }
  recordAdapterRequest(r: AdapterRequestRecord): void { this.adapterRequests.push(r); }
  recordAdapterError(r: AdapterErrorRecord): void { this.adapterErrors.push(r); }
  recordLeadership(s: LeadershipSample): void { this.leadership.push(s); }
  recordShortfall(s: ShortfallSample): void { this.shortfalls.push(s); }
  recordConfigReload(r: ConfigReloadRecord): void { this.configReloads.push(r); }
  recordWorkload(s: WorkloadSample): void { this.workloads.push(s); }
}
