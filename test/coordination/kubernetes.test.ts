// The Kubernetes backend, with no cluster: against recorded-shape API bodies (fixtures/, see its
// README for their source) served by a fake API server on 127.0.0.1 with real optimistic
// concurrency (409 on a stale resourceVersion). Real time, short durations.
import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import { epochOf } from '../../src/core/fleet/election.js';
import {
  configMapKey, desiredFromConfigMap, fencingEpoch, formatMicroTime, kubeSafeName, leaseSnapshot, memberOf, microTimeMs, withDesired,
  type ConfigMapObject, type LeaseObject,
} from '../../src/coordination/kubernetes-objects.js';
import { KubernetesCoordinator } from '../../src/coordination/kubernetes.js';
import { CoordinatorError, StaleEpochError, type LeaseLostError } from '../../src/ports/coordinator.js';
import { coordinatorContract, eventually, member, winner, type ContractHarness } from './contract.js';
import { FakeKubeApi, fixture } from './fake-kube-api.js';

const TIMING = { leaseDurationMs: 1000, renewDeadlineMs: 700, retryPeriodMs: 200 };
const NS = 'serving';

function kubeHarness(api: () => FakeKubeApi): Promise<ContractHarness> {
  const started: KubernetesCoordinator[] = [];
  return Promise.resolve({
    timing: TIMING,
    memberTtlMs: 1000,
    async coordinator(identity) {
      const c = await KubernetesCoordinator.create({ identity, namespace: NS, timing: TIMING, memberTtlMs: 1000, kubeConfig: api().kubeConfig(NS) });
      await c.start();
      started.push(c);
      return c;
    },
    kill: (c) => (c as KubernetesCoordinator).abandon(),
    elapse: (ms) => sleep(ms),
    async cleanup() {
      await Promise.all(started.map((c) => c.stop(2000)));
    },
  });
}

describe('kubernetes coordination (fake API server on recorded bodies)', function () {
  this.timeout(60_000);
  let api: FakeKubeApi;
  beforeEach(async function () { api = await FakeKubeApi.start(); });
  afterEach(async function () {
    const refused = api.requests.filter((r) => r.status === 422 || r.status === 400 || r.status === 401);
    await api.close();
    expect(refused, 'requests a real API server would refuse').to.deep.equal([]);
  });

  coordinatorContract('kubernetes (fake API server)', () => kubeHarness(() => api));

  describe('Kubernetes specifics', function () {
    let h: ContractHarness;
    beforeEach(async function () { h = await kubeHarness(() => api); });
    afterEach(async function () { await h.cleanup(); });

    it('takes over a recorded Lease of a dead holder only after it stays unchanged for its duration on this clock, whatever its renewTime says', async function () {
      const lease = fixture<LeaseObject>('lease-leader.json');
      lease.spec = { ...lease.spec, leaseDurationSeconds: 1 }; // renewTime is days in the past
      api.seed('leases', lease as Record<string, unknown>);
      api.seed('configmaps', fixture('configmap-desired.json'));
      const c = await h.coordinator('agent-cpu-1');
      const t0 = Date.now();
      const l = await winner(h, [c], TIMING.leaseDurationMs);
      const took = Date.now() - t0;
      expect(took, 'waited out the observed lease').to.be.at.least(900);
      expect(l.epoch).to.equal(6); // leaseTransitions 4 → 5
      const stored = api.get('leases', NS, 'inferline-leader') as LeaseObject;
      expect(stored.spec?.holderIdentity).to.equal('agent-cpu-1');
      expect(stored.spec?.leaseTransitions).to.equal(5);
      expect(stored.spec?.leaseDurationSeconds).to.equal(1);
      // Fenced before campaign() resolved: the dead leader's epoch 5 can no longer write.
      expect(fencingEpoch(api.get('configmaps', NS, 'inferline-desired-state') as ConfigMapObject)).to.equal(6);
      const err = await c.writeDesired('agent-gpu-2', { models: {} }, 5).then(() => undefined, (e: unknown) => e);
      expect(err).to.be.instanceOf(StaleEpochError);
      expect((err as StaleEpochError).currentEpoch).to.equal(6);
      // The recorded records are read as they are, and survive writes of other agents.
      expect((await c.readDesired('agent-cpu-1'))?.spec).to.deep.equal({ models: { tokenize: { replicas: 3, maxBatch: 1 } } });
      const w = await c.writeDesired('agent-gpu-2', { models: { resnet50: { replicas: 3, maxBatch: 16 } } }, 6);
      expect(w.revision).to.equal('8');
      expect((await c.readDesired('agent-cpu-1'))?.revision).to.equal('2');
      // Every update of the Lease was a compare-and-swap on its resourceVersion.
      const leasePuts = api.requests.filter((r) => r.method === 'PUT' && r.path.endsWith('/leases/inferline-leader'));
      expect(leasePuts.length).to.be.greaterThan(0);
      for (const r of leasePuts) expect(r.body?.metadata.resourceVersion, 'PUT without resourceVersion').to.be.a('string');
    });

    it('retries desired-state writes that lose the resourceVersion race (409) and loses none', async function () {
      const [a, b] = [await h.coordinator('a'), await h.coordinator('b')];
      const l = await winner(h, [a, b], TIMING.leaseDurationMs);
      const writer = l.agentId === 'a' ? a : b;
      const writes = Array.from({ length: 6 }, (_, i) => writer.writeDesired(`agent-${i}`, { replicas: i }, l.epoch));
      await Promise.all(writes);
      const conflicts = api.requests.filter((r) => r.status === 409 && r.path.includes('/configmaps/'));
      expect(conflicts.length, 'the race was real').to.be.greaterThan(0);
      const other = writer === a ? b : a;
      for (let i = 0; i < 6; i++) expect((await other.readDesired(`agent-${i}`))?.spec).to.deep.equal({ replicas: i });
    });

    it('keeps epochs increasing when the Lease object is deleted: the next Lease starts from the fencing epoch', async function () {
      const [a, b] = [await h.coordinator('a'), await h.coordinator('b')];
      const first = await winner(h, [a], TIMING.leaseDurationMs);
      await first.resign();
      const second = await winner(h, [b], TIMING.leaseDurationMs);
      expect(second.epoch).to.equal(first.epoch + 1);
      await second.resign();
      api.delete('leases', NS, 'inferline-leader');
      const third = await winner(h, [a], TIMING.leaseDurationMs);
      expect(third.epoch).to.be.greaterThan(second.epoch);
    });

    it('a leader whose API server is down gets LeaseLostError at the renew deadline, before the lease can expire for others', async function () {
      const [a] = [await h.coordinator('a')];
      await a.register(member('a'));
      const l = await winner(h, [a], TIMING.leaseDurationMs);
      api.down = true;
      const t0 = Date.now();
      await eventually(h, 'the leader gives up', () => l.signal.aborted, 3000, 10);
      const lostAfter = Date.now() - t0;
      expect((l.signal.reason as LeaseLostError).reason).to.equal('renew-deadline');
      expect(lostAfter).to.be.below(TIMING.leaseDurationMs);
      const err = await a.members().then(() => undefined, (e: unknown) => e);
      expect(err).to.be.instanceOf(CoordinatorError);
      expect((err as Error).message).to.match(/^kubernetes: cannot list member Leases \(HTTP 503/);
      api.down = false;
      const again = await winner(h, [a], TIMING.leaseDurationMs);
      expect(again.epoch).to.be.greaterThan(l.epoch);
    });

    it('names member Leases safely and labels them with the fleet', async function () {
      const a = await h.coordinator('a');
      await a.register(member('GPU node #1'));
      const name = kubeSafeName('inferline-member-', 'GPU node #1');
      const stored = api.get('leases', NS, name) as LeaseObject;
      expect(stored.metadata?.labels).to.deep.equal({ 'app.kubernetes.io/managed-by': 'inferline', 'inferline.io/member-of': 'inferline-leader' });
      expect(memberOf(stored)?.info.agentId).to.equal('GPU node #1');
      expect((await a.members()).map((m) => m.agentId)).to.deep.equal(['GPU node #1']);
    });
  });
});

describe('kubernetes objects (pure, on the recorded bodies)', function () {
  it('reads the leader Lease: holder, duration, MicroTimes, transitions → epoch', function () {
    const s = leaseSnapshot(fixture('lease-leader.json'));
    expect(s).to.deep.equal({
      version: '1843',
      record: {
        holderIdentity: 'agent-gpu-2', leaseDurationMs: 15_000, leaseTransitions: 4,
        acquireTimeMs: Date.parse('2026-11-29T03:58:02.118Z'), renewTimeMs: Date.parse('2026-11-29T04:20:11.532Z'),
      },
    });
    expect(epochOf(s!.record)).to.equal(5);
  });

  it('reads a Lease that client-go wrote, and a released one', function () {
    expect(leaseSnapshot(fixture('lease-kube-controller-manager.json'))?.record).to.include({
      holderIdentity: 'control-plane-1_5e0c3d8e-4b1f-4c77-8a2b-9d6f1e3a7c55', leaseDurationMs: 15_000, leaseTransitions: 11,
    });
    expect(leaseSnapshot(fixture('lease-released.json'))?.record).to.include({ holderIdentity: '', leaseDurationMs: 1000, leaseTransitions: 4 });
    expect(leaseSnapshot({ metadata: { resourceVersion: '1' } })).to.equal(undefined);
  });

  it('reads a member Lease', function () {
    expect(memberOf(fixture('lease-member.json'))).to.deep.equal({
      version: '1866',
      ttlMs: 10_000,
      info: { agentId: 'agent-gpu-2', serverKind: 'triton', hardware: 'gpu-t4', models: ['resnet50', 'bert-base'], capacity: 4, endpoint: 'http://10.42.0.17:8080' },
    });
    const broken = fixture<LeaseObject>('lease-member.json');
    broken.metadata!.annotations = { 'inferline.io/member': '{"agentId":"x"}' };
    expect(memberOf(broken)).to.equal(undefined);
  });

  it('reads the desired-state ConfigMap and writes it back with the fencing epoch raised, never lowered', function () {
    const cm = fixture<ConfigMapObject>('configmap-desired.json');
    expect(fencingEpoch(cm)).to.equal(5);
    expect(desiredFromConfigMap(cm, 'agent-gpu-2')).to.deep.equal({
      agentId: 'agent-gpu-2', spec: { models: { resnet50: { replicas: 2, maxBatch: 16 } } }, epoch: 5, writtenBy: 'agent-gpu-2', revision: '7',
    });
    expect(desiredFromConfigMap(cm, 'agent-new')).to.equal(undefined);
    const next = withDesired(cm, 'inferline-desired-state', 'serving', 6, { agentId: 'agent-new', spec: { a: 1 }, writtenBy: 'x' });
    expect(next.metadata?.resourceVersion).to.equal('1852');
    expect(fencingEpoch(next)).to.equal(6);
    expect(desiredFromConfigMap(next, 'agent-new')?.revision).to.equal('1');
    expect(desiredFromConfigMap(next, 'agent-gpu-2')?.revision).to.equal('7');
    expect(fencingEpoch(withDesired(cm, 'c', 'n', 3))).to.equal(5);
  });

  it('formats MicroTimes as the API server does and reads both forms client-node hands over', function () {
    expect(formatMicroTime(Date.parse('2026-11-29T04:20:11.532Z'))).to.equal('2026-11-29T04:20:11.532000Z');
    expect(microTimeMs('2026-11-29T04:20:11.532184Z')).to.equal(Date.parse('2026-11-29T04:20:11.532Z'));
    expect(microTimeMs(new Date(5))).to.equal(5);
    expect(microTimeMs('yesterday')).to.equal(undefined);
  });

  const names = [
    { given: 'agent-1', want: 'inferline-member-agent-1' },
    { given: 'Agent_1', want: /^inferline-member-agent-1-[0-9a-f]{8}$/ },
    { given: 'agent_1', want: /^inferline-member-agent-1-[0-9a-f]{8}$/ },
    { given: '###', want: /^inferline-member-agent-[0-9a-f]{8}$/ },
  ];
  for (const { given, want } of names) {
    it(`names the member Lease of "${given}"`, function () {
      const name = kubeSafeName('inferline-member-', given);
      if (typeof want === 'string') expect(name).to.equal(want);
      else expect(name).to.match(want);
    });
  }

  it('never gives two ids the same Lease name or ConfigMap key', function () {
    expect(kubeSafeName('p-', 'Agent_1')).to.not.equal(kubeSafeName('p-', 'agent_1'));
    expect(kubeSafeName('p-', 'x'.repeat(400)).length).to.be.at.most(253);
    expect(configMapKey('agent-1.gpu_a')).to.equal('agent-1.gpu_a');
    expect(configMapKey('a/b')).to.not.equal(configMapKey('a:b'));
    expect(configMapKey('a/b')).to.match(/^[-._a-zA-Z0-9]+$/);
  });
});
