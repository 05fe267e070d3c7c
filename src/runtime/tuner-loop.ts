// The tuner in the running system: arrivals reach live envelopes as they are observed (exact
// timestamps, or per-interval counts from polling a server's counters), and every tick the pure
// decider runs on a snapshot; its scale decisions go to an actuator (the leader writes desired
// state with them). The loop itself is a PeriodicTask on the Clock port. With a Telemetry, every
// tick records the live envelope, the arrival rate and the decision's kind. A pipeline with no
// traffic (no arrivals in the last second, nothing queued, the tuner holding) ticks every
// `idleTickMs` instead: new counts tick at once anyway (the leader calls tick() on them), so the
// slower tick only thins the decisions that have nothing to decide.
import type { EnvelopePoint } from '../core/arrival/envelope.js';
import { LiveEnvelope } from '../core/arrival/live-envelope.js';
import { recentEnvelopeOptions } from '../core/tuner/tuner.js';
import type { Tuner, TunerDecision, TunerState } from '../core/tuner/tuner.js';
import type { Clock } from '../ports/clock.js';
import type { Telemetry, TunerDecisionKind } from '../ports/telemetry.js';
import { PeriodicTask } from '../platform/periodic.js';

export interface TunerLoopOptions {
  readonly tuner: Tuner;
  readonly clock: Clock;
  readonly tickMs: number;
  /** The tick while the pipeline has no traffic (see above; default: tickMs, never below it). */
  readonly idleTickMs?: number;
  /** Replicas provisioned now, per stage. */
  readonly replicas: () => Readonly<Record<string, number>>;
  /** Queued queries per stage, where known. */
  readonly queued?: () => Readonly<Record<string, number>>;
  /** Pipeline arrivals per second over the last second, where known (the backlog rule uses it). */
  readonly arrivalRateQps?: () => number | undefined;
  /** Applies a decision (scale changes and replan signals); may be async. */
  readonly act: (decision: TunerDecision, nowMs: number) => Promise<void> | void;
  readonly onError?: (err: unknown) => void;
  /**
   * Live envelope bucket width (default: a quarter of the shortest window, at most 250 ms). Fed by
   * polled counts, the envelopes assume arrivals spread evenly within a bucket, so a coarse one
   * (a quarter of the scrape interval) serves short windows with little memory.
   */
  readonly countResolutionMs?: number;
  /**
   * The time live envelopes are read at (default: now). Polled counts arrive after their interval,
   * so the leader reads them at the time every agent has reported up to (fleet/count-merger.ts).
   */
  readonly envelopeAtMs?: () => number;
  /** Records each tick's traffic and decision, as the pipeline named here. */
  readonly telemetry?: { readonly port: Telemetry; readonly pipeline: string };
}

/** A decision's kind for metrics: a scale that adds replicas anywhere is a scale-up. */
export function tunerDecisionKind(decision: TunerDecision): TunerDecisionKind {
  if (decision.kind === 'hold') return 'hold';
  return decision.changes.some((c) => c.to > c.from) ? 'scale_up' : 'scale_down';
}

/** The rate over the longest window of an envelope (queries per second), 0 when empty. */
export function sustainedRateQps(envelope: readonly EnvelopePoint[]): number {
  const longest = envelope[envelope.length - 1];
  return longest === undefined ? 0 : longest.rateQps;
}

export class TunerLoop {
  private readonly options: TunerLoopOptions;
  private readonly live: LiveEnvelope;
  private readonly recent: LiveEnvelope;
  private readonly task: PeriodicTask;
  private state: TunerState | undefined;
  /** The last tick saw no traffic and decided nothing: the next waits idleTickMs. */
  private idle = false;

  constructor(options: TunerLoopOptions) {
    this.options = options;
    const windowsMs = options.tuner.plan.envelope.map((p) => p.windowMs);
    const coarse = options.countResolutionMs === undefined ? {} : { resolutionMs: options.countResolutionMs, evenWithinBucket: true };
    this.live = new LiveEnvelope({ windowsMs, horizonMs: 60_000, ...coarse });
    this.recent = new LiveEnvelope({ ...recentEnvelopeOptions(options.tuner.plan, options.tuner.options), ...coarse });
    const idleTickMs = Math.max(options.tickMs, options.idleTickMs ?? options.tickMs);
    this.task = new PeriodicTask({
      name: 'tuner', intervalMs: options.tickMs, clock: options.clock, ...(options.onError ? { onError: options.onError } : {}),
      ...(idleTickMs > options.tickMs ? { nextIntervalMs: () => (this.idle ? idleTickMs : options.tickMs) } : {}),
    }, async () => { await this.tick(); });
  }

  observeArrival(tMs: number): void {
    this.live.addArrival(tMs);
    this.recent.addArrival(tMs);
  }

  /** The live envelope's bucket width: counts fed in order of these buckets are never late. */
  get resolutionMs(): number {
    return this.live.resolutionMs;
  }

  observeCount(fromMs: number, toMs: number, count: number): void {
    this.live.addCount(fromMs, toMs, count);
    this.recent.addCount(fromMs, toMs, count);
  }

  start(): void {
    this.task.start();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  get stats() {
    return this.task.counters;
  }

  /** One decision now (the loop calls this every tick). */
  async tick(): Promise<TunerDecision> {
    const now = this.options.clock.nowMs();
    this.state ??= this.options.tuner.initialState(now);
    const queued = this.options.queued?.();
    const arrivalRateQps = this.options.arrivalRateQps?.();
    const at = Math.min(now, this.options.envelopeAtMs?.() ?? now);
    const envelope = this.live.snapshot(at);
    const out = this.options.tuner.decide({
      nowMs: now,
      envelope,
      recentEnvelope: this.recent.snapshot(at),
      replicas: this.options.replicas(),
      ...(queued ? { queued } : {}),
      ...(arrivalRateQps !== undefined && Number.isFinite(arrivalRateQps) ? { arrivalRateQps } : {}),
    }, this.state);
    this.state = out.state;
    this.idle = out.decision.kind === 'hold' && out.decision.replan === undefined && arrivalRateQps === 0
      && Object.values(queued ?? {}).every((q) => q === 0);
    this.record(envelope, out.decision);
    if (out.decision.kind === 'scale' || out.decision.replan) await this.options.act(out.decision, now);
    return out.decision;
  }

  private record(envelope: readonly EnvelopePoint[], decision: TunerDecision): void {
    const t = this.options.telemetry;
    if (!t) return;
    t.port.recordTraffic({
      pipeline: t.pipeline,
      arrivalRateQps: sustainedRateQps(envelope),
      envelope: envelope.map((p) => ({ windowMs: p.windowMs, maxArrivals: p.maxArrivals })),
    });
    t.port.recordTunerDecision({ pipeline: t.pipeline, kind: tunerDecisionKind(decision), replan: decision.replan !== undefined });
  }
}
