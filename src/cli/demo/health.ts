// The demo's health: whether the host carried the run, so that an overloaded host is reported as
// such rather than as the product's SLO miss. It gathers what each process measures of itself —
// the load generator's send slip against its schedule, the event-loop delay of every child (their
// probes) and of this process, the host's load average — and judges them with the rules
// `inferline replay` uses (core/replay/compare.ts harnessVerdict): slip P99, loop-delay P99 and
// load ≤ cores. The host's load is judged by what the demo can measure of it directly: the CPU
// that work other than the demo's own processes took during the run (Linux /proc), since a load
// average counts the demo's own processes and carries the setup (seven processes starting and a
// leader planning) a minute into the run. Where /proc is not there, the load average is judged.
//
// The harness is what stands in for the world around the product: the emulated servers, the load
// generator and this process. The agents are the product: their loop delay is shown beside (a
// leader that plans blocks its loop for a while, which is the product's own latency), not judged.
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { harnessVerdict, type HarnessVerdict } from '../../core/replay/compare.js';
import type { LoopReport } from './loop-probe.js';

/** The most send slip (P99) a demo run the harness trusts may have, as a share of the SLO. */
const SLIP_SHARE_OF_SLO = 0.05;

export interface ProcessLoop {
  readonly name: string;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Judged (a part of the harness) or only shown (an agent). */
  readonly judged: boolean;
}

export interface DemoHealth {
  readonly sendSlipP99Ms: number;
  readonly sendSlipMaxMs: number;
  readonly loops: readonly ProcessLoop[];
  /** Highest 1-minute load average seen during the run, and at its end. */
  readonly loadAverageMax: number;
  readonly loadAverageEnd: number;
  readonly cores: number;
  /** CPU (cores) that work other than the demo's processes took during the run; undefined where unknown. */
  readonly otherCpuCores: number | undefined;
  /** CPU (cores) that the demo's own processes took during the run; undefined where unknown. */
  readonly ownCpuCores: number | undefined;
  readonly verdict: HarnessVerdict;
}

/** CPU time as the kernel counts it, in clock ticks since boot. */
export interface CpuReader {
  /** The host's, summed over its cores: busy and total; undefined where unknown. */
  host(): { readonly busy: number; readonly total: number } | undefined;
  /** One process's own (user + system); undefined once it is gone, or where unknown. */
  process(pid: number): number | undefined;
}

/** Linux's /proc: /proc/stat's aggregate cpu line, /proc/PID/stat's utime and stime. */
export const procCpu: CpuReader = {
  host() {
    try {
      const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
      if (!line.startsWith('cpu ')) return undefined;
      // user nice system idle iowait irq softirq steal (guest time is already in user).
      const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
      if (f.length < 8 || f.some((x) => !Number.isFinite(x))) return undefined;
      const total = f.reduce((a, b) => a + b, 0);
      return { busy: total - (f[3] as number) - (f[4] as number), total };
    } catch {
      return undefined;
    }
  },
  process(pid) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ticks = Number(f[11]) + Number(f[12]);
      return Number.isFinite(ticks) ? ticks : undefined;
    } catch {
      return undefined;
    }
  },
};

export interface HealthSources {
  /** 1-minute load average (default os.loadavg). */
  readonly loadAverage?: () => number;
  readonly cores?: number;
  /** Judge this process's own event loop too (default true: it is the demo's live view). */
  readonly ownLoop?: boolean;
  /** CPU time of the host and of processes (default /proc; a reader that knows nothing falls back to the load average). */
  readonly cpu?: CpuReader;
}

interface CpuSnapshot {
  readonly host: { readonly busy: number; readonly total: number };
  /** Per process, its ticks at this snapshot (the last seen, for one gone since). */
  readonly own: ReadonlyMap<number, number>;
}

/** Is a process's name one of the harness's (judged) rather than an agent's? */
export function isHarnessProcess(name: string): boolean {
  return !name.startsWith('agent ');
}

export class HealthTracker {
  private readonly own: IntervalHistogram;
  private readonly loops = new Map<string, LoopReport>();
  private readonly load: () => number;
  private readonly cores: number;
  private loadMax = 0;
  private slipP99Ms = 0;
  private slipMaxMs = 0;
  private readonly sloMs: number;
  private readonly ownLoop: boolean;
  private readonly cpu: CpuReader;
  private pids: readonly number[] = [process.pid];
  private cpuStart: CpuSnapshot | undefined;
  private cpuLast: CpuSnapshot | undefined;

  constructor(sloMs: number, sources: HealthSources = {}) {
    this.sloMs = sloMs;
    this.ownLoop = sources.ownLoop ?? true;
    this.cpu = sources.cpu ?? procCpu;
    this.load = sources.loadAverage ?? (() => loadavg()[0] ?? 0);
    this.cores = sources.cores ?? cpus().length;
    this.own = monitorEventLoopDelay({ resolution: 5 });
    this.own.enable();
  }

  /** The demo's own processes (this one is always counted): their CPU is the run's, not other work's. */
  track(pids: readonly number[]): void {
    this.pids = [...new Set([process.pid, ...pids])];
  }

  /** Forgets what came before the load (the setup: planning, warm-up). */
  reset(): void {
    this.own.reset();
    this.loops.clear();
    this.loadMax = 0;
    this.slipP99Ms = 0;
    this.slipMaxMs = 0;
    this.cpuStart = this.snapshot(undefined);
    this.cpuLast = this.cpuStart;
  }

  private snapshot(previous: CpuSnapshot | undefined): CpuSnapshot | undefined {
    const host = this.cpu.host();
    if (host === undefined) return undefined;
    const own = new Map<number, number>();
    for (const pid of this.pids) {
      const ticks = this.cpu.process(pid) ?? previous?.own.get(pid);
      if (ticks !== undefined) own.set(pid, ticks);
    }
    return { host, own };
  }

  /** Cores taken over the run: by the demo's processes and by other work (undefined where unknown). */
  private cpuUse(): { own: number; other: number } | undefined {
    const a = this.cpuStart;
    const b = this.cpuLast;
    if (a === undefined || b === undefined) return undefined;
    const total = b.host.total - a.host.total;
    if (!(total > 0)) return undefined;
    let own = 0;
    for (const [pid, ticks] of b.own) own += ticks - (a.own.get(pid) ?? ticks);
    const busy = b.host.busy - a.host.busy;
    return { own: (own / total) * this.cores, other: (Math.max(0, busy - own) / total) * this.cores };
  }

  onLoop(name: string, r: LoopReport): void {
    this.loops.set(name, r);
  }

  /** The load generator's slip so far (it reports its P99 at the end and its max as it goes). */
  onSlip(p99Ms: number | undefined, maxMs: number): void {
    if (p99Ms !== undefined) this.slipP99Ms = p99Ms;
    this.slipMaxMs = Math.max(this.slipMaxMs, maxMs);
  }

  /** Samples the host's load and CPU; call it every tick. */
  sample(): void {
    this.loadMax = Math.max(this.loadMax, this.load());
    if (this.cpuStart !== undefined) this.cpuLast = this.snapshot(this.cpuLast) ?? this.cpuLast;
  }

  /** The figures so far and the verdict on them. `slipP99Ms` undefined: judge on the max seen so far. */
  health(): DemoHealth {
    const loops: ProcessLoop[] = [
      ...(this.ownLoop ? [{ name: 'demo (this process)', p99Ms: this.own.percentile(99) / 1e6, maxMs: this.own.max / 1e6, judged: true }] : []),
      ...[...this.loops].map(([name, r]) => ({ name, p99Ms: r.p99Ms, maxMs: r.maxMs, judged: isHarnessProcess(name) })),
    ];
    const worst = worstJudged(loops);
    const loadEnd = this.load();
    const loadAverage = Math.max(this.loadMax, loadEnd);
    const slipP99 = this.slipP99Ms > 0 ? this.slipP99Ms : this.slipMaxMs;
    const cpu = this.cpuUse();
    // The demo has no prediction of its own latency: the SLO is the scale of what it judges, loop
    // delay and send slip alike (≤ 5 % of it). A query is timed from when it was sent, so a slip
    // only shifts the arrivals; 5 % of the SLO is too small to change what the burst asks of the
    // fleet, while replay's 5 ms floor (made for comparing against a prediction of each query)
    // marked quiet runs whose sender was 8–9 ms late at P99 during the burst.
    const verdict = harnessVerdict(
      { sendSlipP99Ms: slipP99, loopDelayP99Ms: worst.p99Ms, loopDelayOf: worst.name, loadAverage, cores: this.cores, failed: 0, ...(cpu ? { otherCpuCores: cpu.other } : {}) },
      { p50Ms: 0, p99Ms: this.sloMs, slipLimitMs: SLIP_SHARE_OF_SLO * this.sloMs },
    );
    return {
      sendSlipP99Ms: slipP99, sendSlipMaxMs: this.slipMaxMs, loops, loadAverageMax: loadAverage, loadAverageEnd: loadEnd, cores: this.cores,
      otherCpuCores: cpu?.other, ownCpuCores: cpu?.own, verdict,
    };
  }

  stop(): void {
    this.own.disable();
  }
}

/** One line: the figures, and the verdict. */
export function healthLine(h: DemoHealth): string {
  const worst = worstJudged(h.loops);
  const agents = h.loops.filter((l) => !l.judged);
  const agentWorst = agents.length === 0 ? undefined : agents.reduce((a, b) => (b.p99Ms > a.p99Ms ? b : a));
  const cpu = h.otherCpuCores !== undefined && h.ownCpuCores !== undefined
    ? `CPU ${h.ownCpuCores.toFixed(2)} cores the demo's, ${h.otherCpuCores.toFixed(2)} other work's, of ${h.cores}`
    : `load ${h.loadAverageMax.toFixed(2)} on ${h.cores} cores`;
  const figures = `send slip P99 ${h.sendSlipP99Ms.toFixed(1)} ms · loop delay P99 ${worst.p99Ms.toFixed(1)} ms (${worst.name})${agentWorst ? ` · agents ${agentWorst.p99Ms.toFixed(1)} ms (${agentWorst.name})` : ''} · ${cpu}`;
  return h.verdict.trustworthy ? `${figures} — the host carried the run` : `${figures} — NOT TRUSTWORTHY: ${h.verdict.reasons.join('; ')}`;
}

function worstJudged(loops: readonly ProcessLoop[]): ProcessLoop {
  return loops.filter((l) => l.judged).reduce((a, b) => (b.p99Ms > a.p99Ms ? b : a), { name: 'none reported', p99Ms: 0, maxMs: 0, judged: true });
}
