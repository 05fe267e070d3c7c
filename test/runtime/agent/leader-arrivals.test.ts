// The leader counts a pipeline's queries, not the visits of its entry servers: a query enters every
// root stage, so a pipeline with several roots (or a root model that also serves a later stage, or
// one model at two roots) must not count it once per visit. Fed real samples through onSamples on
// a fake clock, the leader's recent trace (what it re-plans on) must hold the queries sent, and
// each stage's rate its own visits. Summing the roots' counts, as the leader did, fails every
// multi-root case here.
import { expect } from 'chai';
import { parseConfig } from '../../../src/config/index.js';
import { MemoryCoordinationHub, MemoryCoordinator } from '../../../src/coordination/index.js';
import { Leader } from '../../../src/runtime/agent/leader.js';
import type { ModelSample } from '../../../src/core/observe/sample.js';
import { systemClock } from '../../../src/platform/system-clock.js';
import type { Logger } from '../../../src/ports/logger.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { FakeTelemetry } from '../../helpers/fake-telemetry.js';

const TIMING = { leaseDurationMs: 5000, renewDeadlineMs: 4000, retryPeriodMs: 500 };
const SECONDS = 20;
const QPS = 10;

interface Stage { readonly name: string; readonly model: string; readonly next?: readonly { stage: string; fraction: number }[] }
interface Case {
  readonly name: string;
  readonly stages: readonly Stage[];
  /** Requests per second each (agent, model) reports, for QPS queries per second. */
  readonly reports: readonly { readonly agent: string; readonly model: string; readonly perS: number }[];
  /** Visits per second the leader should give each stage. */
  readonly stageQps: Readonly<Record<string, number>>;
}

const CASES: readonly Case[] = [
  {
    name: 'one root (the reference case: unchanged)',
    stages: [{ name: 'pre', model: 'a', next: [{ stage: 'cls', fraction: 1 }] }, { name: 'cls', model: 'b' }],
    reports: [{ agent: 'x', model: 'a', perS: QPS }, { agent: 'y', model: 'b', perS: QPS }],
    stageQps: { pre: QPS, cls: QPS },
  },
  {
    name: 'two roots joining: each query enters both',
    stages: [
      { name: 'image', model: 'a', next: [{ stage: 'fuse', fraction: 1 }] },
      { name: 'text', model: 'b', next: [{ stage: 'fuse', fraction: 1 }] },
      { name: 'fuse', model: 'c' },
    ],
    reports: [{ agent: 'x', model: 'a', perS: QPS }, { agent: 'y', model: 'b', perS: QPS }, { agent: 'z', model: 'c', perS: QPS }],
    stageQps: { image: QPS, text: QPS, fuse: QPS },
  },
  {
    name: 'three roots, one of them served by two agents',
    stages: [
      { name: 'r1', model: 'a', next: [{ stage: 'end', fraction: 1 }] },
      { name: 'r2', model: 'b', next: [{ stage: 'end', fraction: 1 }] },
      { name: 'r3', model: 'c', next: [{ stage: 'end', fraction: 1 }] },
      { name: 'end', model: 'd' },
    ],
    reports: [
      { agent: 'x1', model: 'a', perS: 0.6 * QPS }, { agent: 'x2', model: 'a', perS: 0.4 * QPS },
      { agent: 'y', model: 'b', perS: QPS }, { agent: 'z', model: 'c', perS: QPS },
    ],
    stageQps: { r1: QPS, r2: QPS, r3: QPS },
  },
  {
    name: 'one model at two roots: its server sees each query twice',
    stages: [
      { name: 'left', model: 'a', next: [{ stage: 'fuse', fraction: 1 }] },
      { name: 'right', model: 'a', next: [{ stage: 'fuse', fraction: 1 }] },
      { name: 'fuse', model: 'c' },
    ],
    reports: [{ agent: 'x', model: 'a', perS: 2 * QPS }],
    stageQps: { left: QPS, right: QPS },
  },
  {
    name: 'a root model that also serves a later stage for half the queries',
    stages: [
      { name: 'detect', model: 'a', next: [{ stage: 'check', fraction: 1 }] },
      { name: 'check', model: 'b', next: [{ stage: 'redetect', fraction: 0.5 }] },
      { name: 'redetect', model: 'a' },
    ],
    reports: [{ agent: 'x', model: 'a', perS: 1.5 * QPS }, { agent: 'y', model: 'b', perS: QPS }],
    stageQps: { detect: QPS, check: QPS, redetect: 0.5 * QPS },
  },
];

function configText(c: Case): string {
  const models = [...new Set(c.stages.map((s) => s.model))];
  return JSON.stringify({
    hardware: [{ name: 'cpu', costPerHour: 0.1 }],
    profiles: models.map((model) => ({ model, hardware: 'cpu', points: [{ batchSize: 1, latencyMs: 5 }, { batchSize: 4, latencyMs: 10 }] })),
    pipelines: [{
      name: 'p', slo: { latencyMs: 200 }, arrival: `poisson:rate=${QPS},duration=10s`,
      stages: c.stages.map((s) => ({ name: s.name, model: s.model, hardware: ['cpu'], next: s.next ?? [] })),
    }],
    planner: { minTrace: '10s' },
  });
}

function sample(model: string, fromMs: number, toMs: number, arrivals: number): ModelSample {
  return {
    model, fromMs, toMs, arrivals, reset: false,
    rates: { windowMs: toMs - fromMs, requestsPerS: 0, failuresPerS: 0, inferencesPerS: null, executionsPerS: null, meanQueueMs: null, meanComputeMs: null, meanBatchSize: null },
  };
}

describe('runtime/agent/leader: a pipeline\'s arrivals are its queries, counted once however many roots they enter', function () {
  const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

  for (const c of CASES) {
    it(c.name, async () => {
      const hub = new MemoryCoordinationHub(systemClock);
      const coordinator = await MemoryCoordinator.create({ identity: 'leader', hub, timing: TIMING });
      await coordinator.start();
      const leadership = await coordinator.campaign();
      const clock = new FakeClock(0);
      const telemetry = new FakeTelemetry();
      const leader = await Leader.start({ config: parseConfig(configText(c), '/leader-arrivals.json'), coordinator, leadership, clock, telemetry, log: quiet });
      try {
        for (let s = 1; s <= SECONDS; s++) {
          await clock.advance(1000);
          for (const r of c.reports) leader.onSamples(r.agent, [sample(r.model, (s - 1) * 1000, s * 1000, r.perS)]);
        }
        await clock.advance(1000);
        // What the leader re-plans on: the recent trace, one arrival per query.
        const [plan] = leader.replan('test');
        const queries = Number(/, (\d+) queries\)/.exec(plan?.workload ?? '')?.[1]);
        expect(queries, plan?.workload).to.be.within(QPS * SECONDS - 1, QPS * SECONDS);
        // Each stage's arrival rate (its visits), as the leader's telemetry last recorded it.
        for (const [stage, want] of Object.entries(c.stageQps)) {
          const last = telemetry.stages.filter((x) => x.stage === stage).at(-1);
          expect(last?.arrivalRateQps, stage).to.be.closeTo(want, 1e-9);
        }
      } finally {
        await leader.stop();
        await coordinator.stop(1000);
      }
    });
  }
});
