// What one stage runs on in a simulation (StagePlan, compiled once per configuration by the
// Estimator), and what an open-loop run needs to record and replay stages (RunReplay).
import type { SimulationRecord } from './sim-record.js';

/** Per-stage service description the simulation runs on. */
export interface StagePlan {
  /** Max batch at the start. */
  maxBatch: number;
  /** Largest max batch the run may switch to (the table's size); = maxBatch in an open loop. */
  batchCap: number;
  /** Replicas serving at the start. */
  replicas: number;
  /** Most replicas the stage may have (= replicas in an open-loop run). */
  capacity: number;
  /** serviceMs[k] = latency of a batch of k. */
  serviceMs: Float64Array;
  /** sigma[k] = log-spread of a batch of k's service time; undefined: deterministic. */
  sigma: Float64Array | undefined;
  /** Cost of each visit (the profile's hop overhead) with one request in flight at the stage. */
  hopMs: number;
  /** hopByInFlight[c] = the hop with c requests in flight, the last entry for that many or more; undefined: always hopMs. */
  hopByInFlight: Float64Array | undefined;
  /** Max queue delay, and the server's rule for it (batch-delay.ts: DELAY_RULE). */
  delayMs: number;
  delayRule: number;
  activationDelayMs: number;
  pricePerMs: number;
}

/** What run() needs for recording and replaying (open loop). */
export interface RunReplay {
  readonly trace: Float64Array;
  /** Per stage: its configuration's key, where the run records or reuses. */
  readonly stageKeys: readonly string[] | undefined;
  /** The record replayed, and which stages it replays. */
  readonly from: SimulationRecord | undefined;
  readonly replayed: Uint8Array | undefined;
}
