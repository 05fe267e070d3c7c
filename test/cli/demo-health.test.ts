// The demo's harness-health verdict: a run whose harness cannot keep up is marked, with the reason,
// and a healthy one is not. Against real child processes that carry the demo's event-loop probe:
// one whose loop is blocked on purpose, one that idles.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { probeExecArgv } from '../../src/cli/demo/fleet.js';
import { HealthTracker, healthLine, procCpu } from '../../src/cli/demo/health.js';
import type { CpuReader } from '../../src/cli/demo/health.js';
import type { LoopReport } from '../../src/cli/demo/loop-probe.js';
import { spawnCliProcess, stopCliProcess } from '../../src/emulator/cli-process.js';

const CHILD = fileURLToPath(new URL('./fixtures/loop-child.js', import.meta.url));
const SLO_MS = 300;

/** Starts the fixture with the probe; reports go to `tracker` under `name`. */
function startChild(dir: string, name: string, stallMs: number, tracker: HealthTracker): { pid: number; reports: LoopReport[] } {
  const reports: LoopReport[] = [];
  const child = spawnCliProcess([], {
    script: CHILD, logFile: join(dir, `${name.replace(/\W/g, '-')}.log`), execArgv: probeExecArgv(),
    env: { ...process.env, STALL_MS: String(stallMs) },
    onMessage: (m) => {
      if ((m as { kind?: string }).kind !== 'loop') return;
      reports.push(m as LoopReport);
      tracker.onLoop(name, m as LoopReport);
    },
  });
  return { pid: child.pid, reports };
}

async function waitReports(reports: readonly LoopReport[], n: number, ms = 20_000): Promise<void> {
  const t0 = Date.now();
  while (reports.length < n && Date.now() - t0 < ms) await new Promise((r) => setTimeout(r, 100));
  expect(reports.length, 'loop reports from the child').to.be.at.least(n);
}

describe('demo harness health', function () {
  this.timeout(60_000);
  const dir = mkdtempSync(join(tmpdir(), 'inferline-health-test-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('marks a run whose harness process is stalled, naming the process and the figure', async function () {
    // The host's load is given, so that only the stall can make the verdict.
    const tracker = new HealthTracker(SLO_MS, { loadAverage: () => 0.5, cores: 2, ownLoop: false });
    const c = startChild(dir, 'server stalled', 80, tracker);
    try {
      await waitReports(c.reports, 3);
      const h = tracker.health();
      expect(h.verdict.trustworthy).to.equal(false);
      expect(h.verdict.reasons.join('\n')).to.match(/the event loop of server stalled was slow: P99 delay \d+\.\d ms > 15\.0 ms/);
      expect(h.loops.find((l) => l.name === 'server stalled')?.p99Ms).to.be.above(50);
      expect(healthLine(h)).to.include('NOT TRUSTWORTHY');
    } finally {
      await stopCliProcess(c.pid, 2000);
      tracker.stop();
    }
  });

  it('does not judge an agent (the product) by its loop, but shows it', async function () {
    const tracker = new HealthTracker(SLO_MS, { loadAverage: () => 0.5, cores: 2, ownLoop: false });
    const c = startChild(dir, 'agent stalled', 80, tracker);
    try {
      await waitReports(c.reports, 3);
      const h = tracker.health();
      expect(h.verdict.trustworthy, h.verdict.reasons.join('; ')).to.equal(true);
      expect(healthLine(h)).to.match(/agents \d+\.\d ms \(agent stalled\)/);
    } finally {
      await stopCliProcess(c.pid, 2000);
      tracker.stop();
    }
  });

  it('does not mark a healthy run; on a host that is itself oversubscribed it says that instead', async function () {
    const cores = cpus().length;
    const tracker = new HealthTracker(SLO_MS, { ownLoop: false });
    const c = startChild(dir, 'server idle', 0, tracker);
    try {
      await waitReports(c.reports, 3);
      tracker.sample();
      const h = tracker.health();
      if (loadavg()[0] as number > cores) {
        expect(h.verdict.reasons.join('\n')).to.include(`the host was oversubscribed`);
        console.log(`      (host load ${(loadavg()[0] as number).toFixed(2)} > ${cores} cores: the verdict says so)`);
      } else {
        expect(h.verdict.trustworthy, h.verdict.reasons.join('; ')).to.equal(true);
      }
    } finally {
      await stopCliProcess(c.pid, 2000);
      tracker.stop();
    }
  });

  it('marks a run whose load generator fell behind its schedule', function () {
    const tracker = new HealthTracker(SLO_MS, { loadAverage: () => 0.5, cores: 2, ownLoop: false });
    tracker.onSlip(undefined, 3);
    expect(tracker.health().verdict.trustworthy).to.equal(true);
    // 5 % of the 300 ms SLO: 9 ms of slip is within it, 40 ms is not.
    tracker.onSlip(9, 20);
    expect(tracker.health().verdict.trustworthy).to.equal(true);
    tracker.onSlip(40, 120);
    const h = tracker.health();
    expect(h.verdict.trustworthy).to.equal(false);
    expect(h.verdict.reasons.join('\n')).to.include('the sender fell behind its schedule: P99 slip 40.00 ms > 15.00 ms');
    tracker.stop();
  });

  /** A host of 2 cores whose tick counters the test sets. */
  function fakeCpu(): CpuReader & { host_: { busy: number; total: number }; procs: Map<number, number> } {
    const f = {
      host_: { busy: 0, total: 0 },
      procs: new Map<number, number>(),
      host: () => ({ ...f.host_ }),
      process: (pid: number) => f.procs.get(pid),
    };
    return f;
  }

  it('judges the CPU other work took during the run, not a load average that carries the setup', function () {
    const cpu = fakeCpu();
    // A load average of 5 left over from the setup: not what is judged where the CPU is known.
    const tracker = new HealthTracker(SLO_MS, { loadAverage: () => 5, cores: 2, ownLoop: false, cpu });
    tracker.track([101, 102]);
    cpu.procs.set(process.pid, 1000).set(101, 500).set(102, 700);
    tracker.reset();
    // One second (200 ticks on 2 cores): the demo's processes took 170 ticks, other work 20.
    cpu.host_ = { busy: 190, total: 200 };
    cpu.procs.set(process.pid, 1030).set(101, 560).set(102, 780);
    tracker.sample();
    let h = tracker.health();
    expect(h.ownCpuCores).to.be.closeTo(1.7, 1e-9);
    expect(h.otherCpuCores).to.be.closeTo(0.2, 1e-9);
    expect(h.verdict.trustworthy, h.verdict.reasons.join('; ')).to.equal(true);
    expect(healthLine(h)).to.include("CPU 1.70 cores the demo's, 0.20 other work's, of 2");
    // The next second: process 102 is gone (its last ticks stand), other work took a whole core.
    cpu.host_ = { busy: 350, total: 400 };
    cpu.procs.set(process.pid, 1040).set(101, 600);
    cpu.procs.delete(102);
    tracker.sample();
    h = tracker.health();
    // Since the reset: (40 + 100 + 80) of 400 ticks the demo's (102 counted to its last 780), 130 other work's.
    expect(h.ownCpuCores).to.be.closeTo(1.1, 1e-9);
    expect(h.otherCpuCores).to.be.closeTo(0.65, 1e-9);
    expect(h.verdict.trustworthy).to.equal(false);
    expect(h.verdict.reasons.join('\n')).to.include('other work on the host took 0.65 of its 2 cores during the run (> 0.50)');
    tracker.stop();
  });

  it('without CPU figures (no /proc), judges the load average as before', function () {
    const cpu: CpuReader = { host: () => undefined, process: () => undefined };
    const tracker = new HealthTracker(SLO_MS, { loadAverage: () => 3, cores: 2, ownLoop: false, cpu });
    tracker.reset();
    tracker.sample();
    const h = tracker.health();
    expect(h.otherCpuCores).to.equal(undefined);
    expect(h.verdict.reasons.join('\n')).to.include('the host was oversubscribed: load average 3.00 > 2 cores');
    tracker.stop();
  });

  it('marks a run beside a CPU burner (real /proc): other work took the host', async function () {
    if (procCpu.host() === undefined) this.skip();
    const tracker = new HealthTracker(SLO_MS, { loadAverage: () => 0.5, ownLoop: false });
    tracker.reset();
    // A bounded burner: one core for 1.5 s, then it exits.
    const burner = spawn(process.execPath, ['-e', 'const end = Date.now() + 1500; while (Date.now() < end) {}'], { stdio: 'ignore' });
    await new Promise((ok) => burner.on('exit', ok));
    tracker.sample();
    const h = tracker.health();
    expect(h.otherCpuCores ?? 0).to.be.above(0.5 * cpus().length * 0.25);
    expect(h.verdict.trustworthy).to.equal(false);
    expect(h.verdict.reasons.join('\n')).to.match(/other work on the host took \d+\.\d\d of its \d+ cores during the run/);
    tracker.stop();
  });
});
