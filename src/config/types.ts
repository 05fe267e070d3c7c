// The validated, frozen configuration. `…Options` is raw input; `…Config` is what the loader
// returns after the schema, the cross-reference checks and the env overrides.
import type { Problem } from '../core/model/errors.js';
import type { HardwareType, ModelProfile, PipelineSpec } from '../core/model/types.js';
import type { TunerOptions } from '../core/tuner/tuner.js';
import type { ElectionTiming } from '../core/fleet/election.js';
import type { CoordinationBackend } from '../ports/coordinator.js';
import type { AgentServerConfig } from '../../adapters/settings.js';
import type { ReconcileMode } from '../core/reconcile/index.js';

export interface PlannerConfig {
  /** Default planning workload, an arrival spec (a pipeline's own `arrival` overrides it). */
  readonly arrival: string;
  /** Seed of the estimator's routing stream and of arrival specs that name none. */
  readonly seed: number;
  /** Upper bound on the replicas of one stage that the search considers. */
  readonly maxReplicasPerStage: number;
  /** Budget of estimator runs for the exact search; past it the result says it is not proven. */
  readonly exactMaxEvaluations: number;
  /** Samples of a generated planning workload to plan over (1: the first alone; core/planner/samples.ts). */
  readonly samples: number;
  /** With samples > 1, the quantile of difficulty of the sample the plan is made on. */
  readonly sampleQuantile: number;
  /** The leader re-plans on this cron schedule (node-cron), besides on demand and on drift. */
  readonly schedule: string;
  /** Recent entry-stage traffic the leader keeps and re-plans on. */
  readonly traceWindowMs: number;
  /** Re-plan on recent traffic once this much has been seen; before, on the planning workload. */
  readonly minTraceMs: number;
}

/** The tuner's options (core/tuner), plus how often it runs and the batch-aware mode. */
export interface TunerConfig extends TunerOptions {
  readonly tickMs: number;
  readonly batchAware: { readonly enabled: boolean; readonly intervalMs: number; readonly windowMs: number };
}

/** Metrics export (src/telemetry), with the standard OTEL_* variables already applied. */
export interface TelemetryConfig {
  /** The resource's service.name. */
  readonly serviceName: string;
  /** Prometheus pull endpoint: GET http://host:port/metrics. Port 0 takes a free port. */
  readonly prometheus: { readonly enabled: boolean; readonly host: string; readonly port: number };
  /** OTLP over HTTP push (JSON encoding) to `endpoint` (the full metrics URL) every intervalMs. */
  readonly otlp: {
    readonly enabled: boolean;
    readonly endpoint: string;
    readonly intervalMs: number;
    /** Timeout of one push (≤ intervalMs). */
    readonly timeoutMs: number;
    readonly headers: Readonly<Record<string, string>>;
  };
}

/** Where agents register, elect their leader and keep desired state (src/coordination). */
export interface CoordinationConfig {
  readonly backend: CoordinationBackend;
  /** Leader election: leaseDuration > renewDeadline > 1.2 × retryPeriod (checked). */
  readonly timing: ElectionTiming;
  readonly memberTtlMs: number;
  readonly memory: {
    /** A hub served by another process on loopback; absent: the hub inside this process. */
    readonly hubUrl?: string;
  };
  readonly etcd: {
    readonly endpoints: readonly string[];
    readonly prefix: string;
    readonly requestTimeoutMs: number;
    /** Absolute paths (resolved against the config file). */
    readonly tls?: { readonly caFile?: string; readonly certFile?: string; readonly keyFile?: string };
  };
  readonly kubernetes: {
    readonly namespace: string;
    readonly leaseName: string;
    readonly configMapName: string;
    readonly memberLeasePrefix: string;
    /** Absolute path; absent: in-cluster, else $KUBECONFIG or ~/.kube/config. */
    readonly kubeconfig?: string;
  };
}

/** The sidecar (`inferline agent`): its server, its place in the fleet, and how it changes the server. */
export interface AgentConfig {
  readonly id: string;
  readonly mode: ReconcileMode;
  readonly hardware: string;
  readonly capacity: number;
  /** Models managed; absent: every model the server reports. */
  readonly models?: readonly string[];
  /** The server section, resolved by its kind's settings (adapters/<kind>/settings.ts). */
  readonly server: AgentServerConfig;
  readonly api: {
    readonly host: string;
    readonly port: number;
    /** How other agents reach this one; absent with port 0 (known once listening). */
    readonly advertiseUrl?: string;
    /** From agent.api.token or its tokenFile; `inferline agent` refuses to start without one. */
    readonly token?: string;
  };
  readonly scrapeIntervalMs: number;
  /** How often the agent samples its server once it has been idle for a push interval (≥ scrapeIntervalMs). */
  readonly idleScrapeIntervalMs: number;
  /** The longest samples are held: pushed on a change of traffic, else at least this often (≥ scrapeIntervalMs). */
  readonly pushIntervalMs: number;
  readonly reconcile: {
    readonly intervalMs: number;
    /** Between passes once they have found the server as desired for 10 s (≥ intervalMs). */
    readonly idleIntervalMs: number;
    readonly minReplicas: number;
    readonly maxReplicas: number;
    readonly maxStepUp: number;
    readonly maxStepDown: number;
    readonly cooldownMs: number;
    readonly batchCooldownMs: number;
    readonly maxActionsPerMinute: number;
    readonly maxAttempts: number;
    readonly retryBaseMs: number;
  };
  readonly profiling: { readonly active: boolean; readonly passive: boolean };
}

/** The Kubernetes workload (Deployment or StatefulSet) whose pods run one pipeline stage. */
export interface WorkloadConfig {
  readonly pipeline: string;
  readonly stage: string;
  readonly kind: 'Deployment' | 'StatefulSet';
  readonly name: string;
  /** Default: coordination.kubernetes.namespace. */
  readonly namespace: string;
  /** Replicas of the stage's model one pod hosts (its agent's capacity for that model). */
  readonly replicasPerPod: number;
  /** Bounds of the workload's pods. */
  readonly minReplicas: number;
  readonly maxReplicas: number;
}

/**
 * What the leader does when a stage needs more replicas than the fleet hosts: run the
 * orchestrator command (`command`), or patch the scale subresource of the stage's workload
 * (`kubernetes-scale`); and whether the KEDA external scaler is served.
 */
export interface PlacementConfig {
  readonly backend: 'command' | 'kubernetes-scale';
  readonly orchestratorCommand?: readonly string[];
  readonly commandTimeoutMs: number;
  readonly workloads: readonly WorkloadConfig[];
  readonly externalScaler: { readonly enabled: boolean; readonly host: string; readonly port: number };
}

export interface InferlineConfig {
  readonly hardware: readonly HardwareType[];
  /** Profiles from the config, inline and from files, merged; points sorted by batch size. */
  readonly profiles: readonly ModelProfile[];
  readonly pipelines: readonly PipelineSpec[];
  readonly planner: PlannerConfig;
  readonly tuner: TunerConfig;
  readonly telemetry: TelemetryConfig;
  readonly coordination: CoordinationConfig;
  /** Present when the file has an `agent` section (needed by `inferline agent`). */
  readonly agent?: AgentConfig;
  readonly placement: PlacementConfig;
  /**
   * What the config allows but deserves a look (a profile without batch 1, latency falling as the
   * batch grows): commands print these on stderr and go on. Absent or empty when there are none.
   */
  readonly warnings?: readonly Problem[];
  /** The file the config was loaded from, for messages and relative paths. */
  readonly source: string;
}
