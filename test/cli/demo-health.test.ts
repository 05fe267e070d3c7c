// The demo's harness-health verdict: a run whose harness cannot keep up is marked, with the reason,
// and a healthy one is not. Against real child processes that carry the demo's event-loop probe:
// one whose loop is blocked on purpose, one that idles.
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { probeExecArgv } from '../../src/cli/demo/fleet.js';
import { HealthTracker, healthLine } from '../../src/cli/demo/health.js';
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
    tracker.onSlip(40, 120);
    const h = tracker.health();
    expect(h.verdict.trustworthy).to.equal(false);
    expect(h.verdict.reasons.join('\n')).to.include('the sender fell behind its schedule: P99 slip 40.00 ms > 5.00 ms');
    tracker.stop();
  });
});
