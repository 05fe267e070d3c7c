// A leader handover the servers do not feel (issue #15): the new leader keeps what the previous
// leadership's records run (replicas as a floor, batch size and batching delay as they are) and
// plans on the recent traffic the previous leader stored, not on the planning workload.
// Two Leaders in turn on one in-memory hub, the real clock.
import { expect } from 'chai';
import { parseConfig } from '../../../src/config/index.js';
import { MemoryCoordinationHub, MemoryCoordinator } from '../../../src/coordination/index.js';
import { Leader } from '../../../src/runtime/agent/leader.js';
import { FLEET_TRAFFIC_KEY, parseDesiredSpec } from '../../../src/runtime/agent/desired-spec.js';
import { systemClock } from '../../../src/platform/system-clock.js';
import type { Logger } from '../../../src/ports/logger.js';
import type { MemberInfo } from '../../../src/ports/coordinator.js';
import type { ModelSample } from '../../../src/core/observe/sample.js';
import { FakeTelemetry } from '../../helpers/fake-telemetry.js';
import { fleetConfigText, until } from './fleet-fixture.js';

const MEMBERS: MemberInfo[] = [
  { agentId: 'agent-pre', serverKind: 'triton', hardware: 'cpu', models: ['preprocess'], capacity: 8 },
  { agentId: 'agent-cls', serverKind: 'triton', hardware: 'gpu', models: ['classify'], capacity: 8 },
];

function sample(fromMs: number, toMs: number, arrivals: number): ModelSample {
  const rate = (arrivals * 1000) / (toMs - fromMs);
  return {
    model: 'preprocess', fromMs, toMs, arrivals, reset: false,
    rates: { windowMs: toMs - fromMs, requestsPerS: rate, failuresPerS: 0, inferencesPerS: rate, executionsPerS: rate, meanQueueMs: 1, meanComputeMs: 3, meanBatchSize: 1 },
  };
}

describe('runtime/agent: leader handover (memory coordinator)', function () {
  this.timeout(30_000);

  it('the new leader keeps the running replicas, batch size and delay, and plans on the traffic the previous leader stored', async () => {
    const config = parseConfig(fleetConfigText(undefined as never, { planner: { minTrace: '1s' } }), '/fleet/handover.json');
    const hub = new MemoryCoordinationHub(systemClock);
    const timing = config.coordination.timing;
    const [a, b] = await Promise.all(['agent-pre', 'agent-cls'].map((identity) => MemoryCoordinator.create({ identity, hub, timing, memberTtlMs: 60_000 })));
    if (!a || !b) throw new Error('no coordinators');
    const logs: string[] = [];
    const log: Logger = { info: (m) => logs.push(m), warn: (m) => logs.push(m), error: (m) => logs.push(m) };
    await a.start();
    await b.start();
    await a.register(MEMBERS[0] as MemberInfo);
    await b.register(MEMBERS[1] as MemberInfo);
    const leadershipA = await a.campaign();
    const first = await Leader.start({ config, coordinator: a, leadership: leadershipA, clock: systemClock, telemetry: new FakeTelemetry(), log, verifyIntervalMs: 200 });
    let second: Leader | undefined;
    try {
      // 1.5 s of live traffic at 400 q/s, pushed every 250 ms, and stored by the leader for the next one.
      let t = Date.now();
      for (let i = 0; i < 6; i++) {
        await new Promise((ok) => setTimeout(ok, 250));
        const now = Date.now();
        first.onSamples('agent-pre', [sample(t, now, Math.round((400 * (now - t)) / 1000))]);
        t = now;
      }
      const stored = await until('the traffic stored', async () => {
        const r = await a.readDesired(FLEET_TRAFFIC_KEY);
        return r !== undefined && r.epoch === leadershipA.epoch && JSON.stringify(r.spec).length > 60 ? r : undefined;
      }, 5000);
      expect(stored.writtenBy).to.equal('agent-pre');
      first.replan('test: on the recent traffic');
      expect(first.status().pipelines[0]?.plan?.workload).to.match(/recent traffic/);
      await first.stop();
      // What the previous leadership left running: the classifier re-planned to another batch size
      // and delay, and scaled up by its tuner (written under its epoch, as it would have).
      const record = await a.readDesired('agent-cls');
      const { spec } = parseDesiredSpec(record?.spec);
      const cls = spec?.models.find((m) => m.model === 'classify');
      expect(cls, 'the first leader wrote the classifier').to.not.equal(undefined);
      const runningBatch = [1, 4, 8].find((x) => x !== cls?.maxBatchSize) as number;
      const runningDelay = (cls?.batchDelayMs ?? 0) + 7;
      const runningReplicas = (cls?.replicas ?? 1) + 2;
      await a.writeDesired('agent-cls', {
        ...(record?.spec as object),
        models: [{ model: 'classify', replicas: runningReplicas, maxBatchSize: runningBatch, batchDelayMs: runningDelay }],
      } as never, leadershipA.epoch);
      await leadershipA.resign();

      const leadershipB = await b.campaign();
      expect(leadershipB.epoch).to.be.above(leadershipA.epoch);
      second = await Leader.start({ config, coordinator: b, leadership: leadershipB, clock: systemClock, telemetry: new FakeTelemetry(), log, verifyIntervalMs: 60_000 });
      const after = await b.readDesired('agent-cls');
      expect(after?.epoch).to.equal(leadershipB.epoch);
      const kept = parseDesiredSpec(after?.spec).spec?.models.find((m) => m.model === 'classify');
      expect(kept?.replicas, 'replicas').to.be.at.least(runningReplicas);
      expect(kept?.maxBatchSize, 'batch size').to.equal(runningBatch);
      expect(kept?.batchDelayMs, 'batching delay').to.equal(runningDelay);
      const planB = second.status().pipelines[0]?.plan;
      expect(planB?.stages['cls']?.batchSize).to.equal(runningBatch);
      expect(planB?.workload, 'the new leader plans on the stored traffic').to.match(/recent traffic/);
      expect(logs.join('\n')).to.match(/handover: images\/cls kept at the running batch size/);
      // A re-plan before the new tuner could have scaled down (drift, schedule) keeps it all too.
      second.replan('test: drift');
      await until('the re-plan written', async () => second?.status().pipelines[0]?.lastReplan?.reason === 'test: drift');
      await new Promise((ok) => setTimeout(ok, 300));
      const again = parseDesiredSpec((await b.readDesired('agent-cls'))?.spec).spec?.models.find((m) => m.model === 'classify');
      expect(again?.replicas, 'replicas after a re-plan').to.be.at.least(runningReplicas);
      expect(again?.maxBatchSize, 'batch size after a re-plan').to.equal(runningBatch);
    } finally {
      await first.stop();
      await second?.stop();
      await a.stop();
      await b.stop();
    }
  });

  it('before any traffic, plans over planner.samples samples of the planning workload and says which one it planned on', async () => {
    const config = parseConfig(fleetConfigText(undefined as never, { planner: { samples: 6, sampleQuantile: 1 } }), '/fleet/samples.json');
    const hub = new MemoryCoordinationHub(systemClock);
    const a = await MemoryCoordinator.create({ identity: 'agent-pre', hub, timing: config.coordination.timing, memberTtlMs: 60_000 });
    const log: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
    await a.start();
    await a.register(MEMBERS[0] as MemberInfo);
    let leader: Leader | undefined;
    try {
      leader = await Leader.start({ config, coordinator: a, leadership: await a.campaign(), clock: systemClock, telemetry: new FakeTelemetry(), log, verifyIntervalMs: 60_000 });
      const workload = leader.status().pipelines[0]?.plan?.workload ?? '';
      const seed = config.planner.seed;
      const m = /\(the sample of seed (\d+); the plan meets the SLO on (\d+) of 6 samples\)$/.exec(workload);
      expect(m, workload).to.not.equal(null);
      expect(Number(m?.[1])).to.be.within(seed, seed + 5);
    } finally {
      await leader?.stop();
      await a.stop();
    }
  });

  it('traffic stored longer ago than the trace window is not planned on (a leader long gone, a restored backup)', async () => {
    const config = parseConfig(fleetConfigText(undefined as never, { planner: { minTrace: '1s', traceWindow: '60s' } }), '/fleet/handover.json');
    const hub = new MemoryCoordinationHub(systemClock);
    const a = await MemoryCoordinator.create({ identity: 'agent-pre', hub, timing: config.coordination.timing, memberTtlMs: 60_000 });
    const logs: string[] = [];
    const log: Logger = { info: (m) => logs.push(m), warn: (m) => logs.push(m), error: (m) => logs.push(m) };
    await a.start();
    await a.register(MEMBERS[0] as MemberInfo);
    let leader: Leader | undefined;
    try {
      const old = await a.campaign();
      // Ten seconds of 400 q/s, written ten minutes ago.
      const intervals = Array.from({ length: 10 }, (_, i) => [-10_000 + i * 1000, -9_000 + i * 1000, 400]);
      await a.writeDesired(FLEET_TRAFFIC_KEY, { atWallMs: Date.now() - 600_000, pipelines: { images: intervals } }, old.epoch);
      await old.resign();
      const now = await a.campaign();
      leader = await Leader.start({ config, coordinator: a, leadership: now, clock: systemClock, telemetry: new FakeTelemetry(), log, verifyIntervalMs: 60_000 });
      expect(leader.status().pipelines[0]?.plan?.workload).to.not.match(/recent traffic/);
      expect(logs.join('\n')).to.match(/stored traffic of epoch \d+ is 600 s old: not used/);
    } finally {
      await leader?.stop();
      await a.stop();
    }
  });

  it('a stage whose agent died with the leader keeps the replicas the leader stored; its agent gets them when it is back', async () => {
    const config = parseConfig(fleetConfigText(undefined as never), '/fleet/handover.json');
    const hub = new MemoryCoordinationHub(systemClock);
    const timing = config.coordination.timing;
    const [a, c, x] = await Promise.all(['agent-pre', 'agent-cls', 'agent-x'].map((identity) => MemoryCoordinator.create({ identity, hub, timing, memberTtlMs: 60_000 })));
    if (!a || !c || !x) throw new Error('no coordinators');
    const log: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
    for (const k of [a, c, x]) await k.start();
    await a.register(MEMBERS[0] as MemberInfo);
    let leader: Leader | undefined;
    try {
      // The old leader was agent-cls; it stored cls at 6 replicas and died (no member any more).
      const old = await c.campaign();
      await c.writeDesired(FLEET_TRAFFIC_KEY, { atWallMs: Date.now(), pipelines: {}, stages: { images: { cls: { hardware: 'gpu', replicas: 6, batchSize: 4 } } } }, old.epoch);
      await old.resign();
      const now = await x.campaign();
      leader = await Leader.start({ config, coordinator: x, leadership: now, clock: systemClock, telemetry: new FakeTelemetry(), log, verifyIntervalMs: 60_000 });
      expect(leader.status().pipelines[0]?.desired['cls'], 'cls wanted').to.equal(6);
      await c.register(MEMBERS[1] as MemberInfo);
      const back = await until('agent-cls given a desired state', async () => {
        const r = await x.readDesired('agent-cls');
        return r?.epoch === now.epoch ? parseDesiredSpec(r.spec).spec?.models.find((m) => m.model === 'classify') : undefined;
      }, 5000);
      expect(back.replicas).to.equal(6);
      expect(back.maxBatchSize).to.equal(4);
    } finally {
      await leader?.stop();
      for (const k of [a, c, x]) await k.stop();
    }
  });
});
