// The demo's load generator: replays an arrival trace (seconds from the start) in real time as
// queries through the pipeline. A query enters at the entry stage; when a stage answers, each edge
// out of it is followed with its fraction (a seeded `routing` stream); the query completes when
// every branch has. Requests are real HTTP requests through the adapters' Profilable.infer. The
// generator keeps end-to-end latencies per completed query for the view, the summary and the
// Telemetry port.
import { RandomStream } from '../../core/math/random.js';
import type { Clock } from '../../ports/clock.js';
import type { Profilable } from '../../ports/server-adapter.js';

export interface LoadStage {
  readonly name: string;
  readonly model: string;
  readonly client: Profilable;
  readonly next: readonly { readonly stage: string; readonly fraction: number }[];
}

export interface CompletedQuery {
  /** Arrival, ms since the load started. */
  readonly atMs: number;
  readonly latencyMs: number;
  readonly ok: boolean;
}

export interface LoadOptions {
  readonly stages: readonly LoadStage[];
  readonly entry: string;
  /** Arrival times in seconds from the start. */
  readonly trace: Float64Array;
  readonly clock: Clock;
  readonly seed: number;
  readonly timeoutMs: number;
  readonly onComplete: (q: CompletedQuery) => void;
  /** Each arrival as it is sent (ms since the start). */
  readonly onArrival?: (atMs: number) => void;
}

/** Queries in flight above this are dropped at arrival (counted failed): the demo must not swamp its own process. */
const MAX_IN_FLIGHT = 3000;

export class LoadGenerator {
  private readonly o: LoadOptions;
  private readonly routing: RandomStream;
  private readonly byName: Map<string, LoadStage>;
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  private inFlight = new Set<Promise<void>>();
  private startMs = 0;
  sent = 0;
  completed = 0;
  failed = 0;
  /** Send time minus scheduled time of each arrival sent, ms: the harness's own health. */
  readonly slipsMs: number[] = [];

  constructor(options: LoadOptions) {
    this.o = options;
    this.routing = new RandomStream(options.seed, 'routing');
    this.byName = new Map(options.stages.map((s) => [s.name, s]));
  }

  get startedAtMs(): number {
    return this.startMs;
  }

  /** Starts sending; resolves once the last arrival has been sent (not answered). */
  start(): Promise<void> {
    this.startMs = this.o.clock.nowMs();
    this.running ??= this.loop();
    return this.running;
  }

  /** Stops sending and waits for the queries in flight (each has its own timeout). */
  async stop(): Promise<void> {
    this.abort.abort(new Error('load stopped'));
    await this.running?.catch(() => undefined);
    await Promise.all([...this.inFlight]);
  }

  /** Waits for the queries in flight. */
  async drain(): Promise<void> {
    await Promise.all([...this.inFlight]);
  }

  private async loop(): Promise<void> {
    const { trace, clock } = this.o;
    let i = 0;
    while (i < trace.length && !this.abort.signal.aborted) {
      const now = clock.nowMs() - this.startMs;
      while (i < trace.length && (trace[i] as number) * 1000 <= now) {
        const due = (trace[i] as number) * 1000;
        this.slipsMs.push(clock.nowMs() - this.startMs - due);
        this.send(due);
        i++;
      }
      if (i >= trace.length) break;
      const wait = Math.max(1, Math.min(20, (trace[i] as number) * 1000 - now));
      await clock.sleep(wait, this.abort.signal).catch(() => undefined);
    }
  }

  private send(atMs: number): void {
    this.sent++;
    this.o.onArrival?.(atMs);
    if (this.inFlight.size >= MAX_IN_FLIGHT) {
      this.failed++;
      this.o.onComplete({ atMs, latencyMs: Number.POSITIVE_INFINITY, ok: false });
      return;
    }
    const begin = this.o.clock.nowMs();
    const p = this.visit(this.o.entry).then(
      () => true,
      () => false,
    ).then((ok) => {
      this.inFlight.delete(p);
      if (ok) this.completed++;
      else this.failed++;
      this.o.onComplete({ atMs, latencyMs: this.o.clock.nowMs() - begin, ok });
    });
    this.inFlight.add(p);
  }

  private async visit(name: string): Promise<void> {
    const stage = this.byName.get(name);
    if (!stage) throw new Error(`no stage ${name}`);
    await stage.client.infer(stage.model, { batchSize: 1, data: 'zero', timeoutMs: this.o.timeoutMs });
    const branches = stage.next.filter((e) => this.routing.next() < e.fraction);
    await Promise.all(branches.map((e) => this.visit(e.stage)));
  }
}
