// Fleet safety on the Kubernetes coordination backend (issue #15): the fencing and repair rules of
// docs/fleet-safety.md hold there as on etcd. Agents with emulated Tritons, each on its own
// KubernetesCoordinator against the fake API server the backend's own tests use
// (test/coordination/fake-kube-api.ts: Leases, the desired-state ConfigMap, optimistic
// concurrency). The tampering goes around the backend's fenced write, straight into the ConfigMap,
// as a zombie with RBAC rights, a restored backup or a hand edit (kubectl edit) would.
import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import { createAdapter } from '../../../adapters/registry.js';
import { agentAdapterOptions } from '../../../src/cli/commands/agent.js';
import type { InferlineConfig } from '../../../src/config/index.js';
import { KubernetesCoordinator } from '../../../src/coordination/kubernetes.js';
import { configMapKey, desiredFromConfigMap } from '../../../src/coordination/kubernetes-objects.js';
import type { ConfigMapObject } from '../../../src/coordination/kubernetes-objects.js';
import { Agent } from '../../../src/runtime/agent/index.js';
import { systemClock } from '../../../src/platform/system-clock.js';
import type { Logger } from '../../../src/ports/logger.js';
import { FakeTelemetry } from '../../helpers/fake-telemetry.js';
import { FakeKubeApi, fixture } from '../../coordination/fake-kube-api.js';
import { startFleet, until } from './fleet-fixture.js';

const NS = 'serving';
const CONFIG_MAP = 'inferline-desired-state';

type Status = {
  leader: { leaderId?: string; epoch: number; self: boolean };
  desired?: { epoch: number; revision: string; models: { model: string; replicas: number }[]; enforced: boolean };
  desiredIgnored?: { epoch: number; writtenBy: string; reason: string };
  fleet?: { repairs: number };
};

describe('runtime/agent: fleet safety on the Kubernetes backend (fake API server)', function () {
  this.timeout(90_000);
  let api: FakeKubeApi;
  const coordinators: KubernetesCoordinator[] = [];
  const coordinatorOf = async (agentId: string, config: InferlineConfig): Promise<KubernetesCoordinator> => {
    const c = await KubernetesCoordinator.create({
      identity: agentId, namespace: NS, timing: config.coordination.timing, memberTtlMs: config.coordination.memberTtlMs, kubeConfig: api.kubeConfig(NS),
    });
    coordinators.push(c);
    return c;
  };
  beforeEach(async function () { api = await FakeKubeApi.start(); });
  afterEach(async function () {
    await Promise.all(coordinators.splice(0).map((c) => c.stop(2000).catch(() => undefined)));
    await api.close();
  });

  /** Puts a record straight into the ConfigMap, with a new resourceVersion, around the fenced write. */
  const tamper = (agentId: string, spec: unknown, epoch: number, writtenBy: string): void => {
    const cm = api.get('configmaps', NS, CONFIG_MAP) as unknown as ConfigMapObject;
    const revision = Number(desiredFromConfigMap(cm, agentId)?.revision ?? 0) + 1;
    const data = { ...(cm.data ?? {}), [configMapKey(agentId)]: JSON.stringify({ agentId, spec, epoch, writtenBy, revision }) };
    api.seed('configmaps', { ...cm, metadata: { ...cm.metadata, resourceVersion: String(Number(cm.metadata?.resourceVersion ?? 0) + 1000) }, data } as Record<string, unknown>);
  };
  const stored = (agentId: string) => desiredFromConfigMap(api.get('configmaps', NS, CONFIG_MAP) as unknown as ConfigMapObject, agentId);

  it('a stale record put into the ConfigMap is never applied nor reported as desired; enforcement goes on; the leader rewrites it', async () => {
    // A Lease released after 4 transitions: the fleet's first leadership has an older epoch below it.
    api.seed('leases', fixture('lease-released.json'));
    const fleet = await startFleet([
      { id: 'a-pre', model: 'preprocess', hardware: 'cpu' },
      { id: 'b-cls', model: 'classify', hardware: 'gpu' },
    ], { coordinatorOf });
    try {
      const [pre, cls] = fleet.members;
      if (!pre || !cls) throw new Error('two members');
      const status = (m: typeof pre) => m.agent.status() as Status;
      const leaderOf = () => fleet.members.find((m) => status(m).leader.self);
      const legit = await until('b-cls enforcing a desired state of the leader epoch', () => {
        const s = status(cls);
        return s.desired && s.desired.epoch === s.leader.epoch ? s.desired : undefined;
      }, 30_000);
      expect(legit.epoch).to.be.above(1);
      const want = legit.models.find((m) => m.model === 'classify')?.replicas as number;
      const epoch = legit.epoch;
      await until('classify at the desired replicas', () => cls.server.engine('classify')?.replicas === want);
      const leader = leaderOf();
      const repairsBefore = (leader?.agent.status() as Status).fleet?.repairs ?? 0;
      // A zombie of an older leadership replays its record, and the server is knocked off its state.
      tamper('b-cls', { models: [{ model: 'classify', replicas: want + 4 }], stages: {}, plans: [] }, epoch - 1, 'zombie');
      const adapter = createAdapter({ kind: 'triton', url: cls.server.url, timeoutMs: 2000 });
      await (adapter as unknown as { setReplicas: (m: string, r: number) => Promise<void> }).setReplicas('classify', want + 4);
      const seenDesired = new Set<number>();
      await until('classify repaired to the legitimate replicas', () => {
        const d = status(cls).desired;
        if (d) seenDesired.add(d.epoch);
        return cls.server.engine('classify')?.replicas === want;
      }, 15_000);
      expect([...seenDesired]).to.deep.equal([epoch]);
      const ignored = await until('the stale record shown as ignored', () => status(cls).desiredIgnored, 10_000).catch(() => undefined);
      // The leader may have rewritten the record before the agent's watch saw it: then the repair shows it.
      if (ignored !== undefined) {
        expect(ignored.epoch).to.equal(epoch - 1);
        expect(ignored.reason).to.match(new RegExp(`older than the current leader epoch ${epoch}`));
      }
      const rewritten = await until('the record rewritten by the leader', () => {
        const r = stored('b-cls');
        return r !== undefined && r.epoch === epoch && r.writtenBy !== 'zombie' ? r : undefined;
      }, 15_000);
      expect((rewritten.spec as { models: { replicas: number }[] }).models[0]?.replicas).to.equal(want);
      expect((leader?.agent.status() as Status).fleet?.repairs).to.be.above(repairsBefore);
      expect(leader?.logs.join('\n')).to.match(new RegExp(`desired state of b-cls differs from what epoch ${epoch} wrote`));
      // And the server stays at the legitimate state.
      await sleep(1000);
      expect(cls.server.engine('classify')?.replicas).to.equal(want);
    } finally {
      await fleet.stop();
    }
  });

  it('an agent that restarts while an old-epoch record is in the ConfigMap never applies it; the leader rewrites it', async () => {
    api.seed('leases', fixture('lease-released.json'));
    const fleet = await startFleet([
      { id: 'a-pre', model: 'preprocess', hardware: 'cpu' },
      { id: 'b-cls', model: 'classify', hardware: 'gpu' },
    ], { coordinatorOf });
    let restarted: Agent | undefined;
    try {
      const leaderId = await until('a leader', () => fleet.members.map((m) => m.agent.status() as Status).find((s) => s.leader.self)?.leader.leaderId, 30_000);
      const n = fleet.members.find((m) => m.spec.id !== leaderId);
      if (!n) throw new Error('a member that does not lead');
      const model = n.spec.model;
      const legit = await until(`${n.spec.id} enforcing a desired state of the leader epoch`, () => {
        const s = n.agent.status() as Status;
        return s.desired && s.desired.epoch === s.leader.epoch ? s.desired : undefined;
      }, 30_000);
      const epoch = legit.epoch;
      expect(epoch).to.be.above(1);
      const want = legit.models.find((m) => m.model === model)?.replicas as number;
      await until(`${model} at the desired replicas`, () => n.server.engine(model)?.replicas === want);
      await n.agent.stop();
      // While it is down, a restored backup puts back a record of an older leadership.
      tamper(n.spec.id, { models: [{ model, replicas: want + 4 }], stages: {}, plans: [] }, epoch - 1, 'backup');
      const logs: string[] = [];
      const log: Logger = { info: (m) => logs.push(`info ${m}`), warn: (m) => logs.push(`warn ${m}`), error: (m) => logs.push(`error ${m}`) };
      const config = n.config;
      restarted = Agent.create({
        config, adapter: createAdapter(agentAdapterOptions(config.agent as NonNullable<InferlineConfig['agent']>)),
        coordinator: await coordinatorOf(n.spec.id, config), clock: systemClock, telemetry: new FakeTelemetry(), log,
      });
      const seen = new Set<number>();
      const sampler = setInterval(() => seen.add(n.server.engine(model)?.replicas ?? -1), 20);
      try {
        await restarted.start();
        await until('the restarted agent enforcing the leader\'s record', () => {
          const d = (restarted?.status() as Status).desired;
          return d !== undefined && d.epoch === epoch ? d : undefined;
        }, 20_000);
        await sleep(1500);
      } finally {
        clearInterval(sampler);
      }
      expect([...seen], `${model} replicas while the agent restarted`).to.deep.equal([want]);
      const rec = await until('the record rewritten by the leader', () => {
        const r = stored(n.spec.id);
        return r !== undefined && r.writtenBy !== 'backup' ? r : undefined;
      }, 15_000);
      expect(rec.epoch).to.equal(epoch);
    } finally {
      await restarted?.stop();
      await fleet.stop();
    }
  });
});
