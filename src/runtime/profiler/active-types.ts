// The shapes of an active profile run (runtime/profiler/active.ts): its options, the hardware it
// sweeps, the events it reports as it goes, and its result, restore outcome included.
import type { Clock } from '../../ports/clock.js';
import type { DeviceKind, ServerKind } from '../../ports/server-adapter.js';
import type { PointResult, StabilityCriterion } from '../../core/profiler/index.js';

/** One hardware to profile: the name the profile is recorded under, and (Triton) the instance kind to switch to. */
export interface HardwareTarget {
  readonly name: string;
  readonly device?: 'cpu' | 'gpu';
}

export interface ActiveProfileOptions {
  readonly model: string;
  /** In order; each is swept in full. */
  readonly hardware: readonly HardwareTarget[];
  /** Default: powers of two up to the model's max batch (and the max batch itself). */
  readonly batchSizes?: readonly number[];
  /** Time budget per hardware (default 2 min). */
  readonly budgetMs?: number;
  /** Shortest measurement window (default 1 s). */
  readonly windowMs?: number;
  /** A window lasts until at least this many batches answered in it (default 5). */
  readonly minWindowRequests?: number;
  /** The trials cap: most windows per point (default 10). */
  readonly maxWindows?: number;
  /** Batches per replica sent and discarded at each batch size before measuring (default 2). */
  readonly warmupRequests?: number;
  /** Timeout of every inference request (default 30 s). */
  readonly timeoutMs?: number;
  /**
   * After the sweep, the hop overhead is measured again at batch 1 with this many requests in
   * flight per replica, each (default none; `inferline profile` asks for 4): under load a hop
   * costs more than with one request a replica, and the estimator interpolates between them.
   */
  readonly hopInFlightPerReplica?: readonly number[];
  /** Profile even when the server is serving traffic. */
  readonly allowLiveTraffic?: boolean;
  /** How long to watch the counters for live traffic first (default 1 s). */
  readonly liveTrafficCheckMs?: number;
  readonly criterion?: StabilityCriterion;
  readonly seed?: number;
}

export type ProfileEvent =
  | { readonly kind: 'traffic-check'; readonly windowMs: number }
  | { readonly kind: 'switch'; readonly hardware: string; readonly device: 'cpu' | 'gpu' }
  | { readonly kind: 'hardware'; readonly hardware: string; readonly device: DeviceKind; readonly replicas: number; readonly batchSizes: readonly number[] }
  | { readonly kind: 'hardware-failed'; readonly hardware: string; readonly error: string }
  | { readonly kind: 'point'; readonly hardware: string; readonly batchSize: number; readonly phase: 'warm-up' | 'measuring'; readonly windows: number }
  | { readonly kind: 'point-done'; readonly hardware: string; readonly point: PointResult }
  | { readonly kind: 'restoring' }
  | { readonly kind: 'restored'; readonly outcome: RestoreOutcome };

export interface ProfileRunContext {
  readonly clock: Clock;
  /** Aborting stops the sweep, restores what was changed, and returns what was measured (interrupted: true). */
  readonly signal?: AbortSignal;
  readonly onEvent?: (event: ProfileEvent) => void;
}

export interface HardwareResult {
  readonly hardware: string;
  /** The device the model ran on during the sweep, as the server reported it. */
  readonly device: DeviceKind;
  /** Whether the instance kind was switched for this hardware. */
  readonly switched: boolean;
  /** Replicas serving, i.e. batches kept in flight. */
  readonly replicas: number;
  readonly batchSizes: readonly number[];
  readonly points: readonly PointResult[];
  /** Batch-1 points measured with more requests in flight than replicas, for the hop overhead's curve. */
  readonly hopPoints: readonly PointResult[];
  readonly budgetMs: number;
  readonly wallMs: number;
  /** Why this hardware could not be profiled at all (the switch failed). */
  readonly error?: string;
}

export interface RestoreOutcome {
  /** Something was changed and had to be put back. */
  readonly needed: boolean;
  readonly ok: boolean;
  /** `config`: the whole config as snapshotted; `replicas`: the replica count and device. */
  readonly method?: 'config' | 'replicas';
  readonly detail?: string;
}

export interface ActiveProfileResult {
  readonly mode: 'active';
  readonly server: ServerKind;
  readonly endpoint: string;
  readonly model: string;
  readonly startedAtMs: number;
  readonly wallMs: number;
  readonly hardware: readonly HardwareResult[];
  readonly restore: RestoreOutcome;
  readonly interrupted: boolean;
  readonly warnings: readonly string[];
}
