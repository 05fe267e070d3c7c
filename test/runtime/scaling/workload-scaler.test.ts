// The kubernetes-scale backend end to end on a fake API server (recorded-shape bodies): the
// leader's figures become pods within the workload's bounds and the reconcile step limits; the
// patch is fenced through the coordinator's desired-state write (a stale leader's is never sent);
// 409s are retried on a fresh read; a 403 is reported with the verb and resource.
import { expect } from 'chai';
import { KubernetesCoordinator } from '../../../src/coordination/kubernetes.js';
import { KubernetesScaleClient } from '../../../src/coordination/kubernetes-scale.js';
import type { WorkloadConfig } from '../../../src/config/index.js';
import { DEFAULT_RECONCILE_POLICY } from '../../../src/core/reconcile/index.js';
import type { ReconcilePolicy } from '../../../src/core/reconcile/index.js';
import type { Logger } from '../../../src/ports/logger.js';
import type { WorkloadRef, WorkloadScaleClient, WorkloadScaleStatus } from '../../../src/ports/workload-scale.js';
import { DesiredReplicasFeed } from '../../../src/runtime/scaling/desired-replicas-feed.js';
import type { StageReplicas } from '../../../src/runtime/scaling/desired-replicas-feed.js';
import { WORKLOAD_SCALE_KEY, WorkloadScaler } from '../../../src/runtime/scaling/workload-scaler.js';
import { systemClock } from '../../../src/platform/system-clock.js';
import { FakeKubeApi, fixture } from '../../coordination/fake-kube-api.js';
import { FakeTelemetry } from '../../helpers/fake-telemetry.js';

const NS = 'serving';
const TIMING = { leaseDurationMs: 60_000, renewDeadlineMs: 40_000, retryPeriodMs: 200 };
const CLS: WorkloadConfig = { pipeline: 'images', stage: 'cls', kind: 'Deployment', name: 'triton-cls', namespace: NS, replicasPerPod: 2, minReplicas: 1, maxReplicas: 6 };
const ENFORCE: ReconcilePolicy = { ...DEFAULT_RECONCILE_POLICY, mode: 'enforce', maxStepUp: 3, maxStepDown: 1, cooldownMs: 10_000 };

const figures = (cls: number): StageReplicas[] => [
  { pipeline: 'images', stage: 'pre', model: 'preprocess', hardware: 'cpu', desired: 1 },
  { pipeline: 'images', stage: 'cls', model: 'classify', hardware: 'gpu', desired: cls },
];

describe('kubernetes-scale backend: WorkloadScaler on the scale subresource (fake API server)', function () {
  let api: FakeKubeApi;
  let coordinator: KubernetesCoordinator;
  let feed: DesiredReplicasFeed;
  let logs: string[];
  let log: Logger;
  const scalers: WorkloadScaler[] = [];

  beforeEach(async function () {
    api = await FakeKubeApi.start();
    // The leader Lease of epoch 5 (leaseTransitions 4), held and fresh, and the fenced ConfigMap.
    const lease = fixture<{ spec: Record<string, unknown> }>('lease-leader.json');
    lease.spec = { ...lease.spec, leaseDurationSeconds: 3600 };
    api.seed('leases', lease as unknown as Record<string, unknown>);
    api.seed('configmaps', fixture('configmap-desired.json'));
    api.seedWorkload('deployments', NS, 'triton-cls', 2);
    coordinator = await KubernetesCoordinator.create({ identity: 'agent-gpu-2', namespace: NS, timing: TIMING, kubeConfig: api.kubeConfig(NS) });
    await coordinator.start();
    feed = new DesiredReplicasFeed();
    logs = [];
    log = { info: (m) => { logs.push(`info ${m}`); }, warn: (m) => { logs.push(`warn ${m}`); }, error: (m) => { logs.push(`error ${m}`); } };
  });
  afterEach(async function () {
    await Promise.all(scalers.splice(0).map((s) => s.stop()));
    await coordinator.abandon();
    const refused = api.requests.filter((r) => r.status === 422 || r.status === 400 || r.status === 401 || r.status === 415);
    await api.close();
    expect(refused, 'requests a real API server would refuse').to.deep.equal([]);
  });

  function scaler(overrides: { policy?: ReconcilePolicy; client?: WorkloadScaleClient; telemetry?: FakeTelemetry } = {}): WorkloadScaler {
    const s = new WorkloadScaler({
      coordinator, feed, workloads: [CLS], policy: overrides.policy ?? ENFORCE, clock: systemClock, log, resyncMs: 60_000,
      client: overrides.client ?? KubernetesScaleClient.create({ kubeConfig: api.kubeConfig(NS), requestTimeoutMs: 2000 }),
      ...(overrides.telemetry ? { telemetry: overrides.telemetry } : {}),
    });
    scalers.push(s);
    s.start();
    return s;
  }

  const patches = (): string[] => api.requests.filter((r) => r.method === 'PATCH').map((r) => `${r.status} ${JSON.stringify(r.body?.spec)}`);

  it('scales the stage\'s Deployment to ceil(desired / replicasPerPod) pods, a step of at most maxStepUp at a time', async () => {
    const telemetry = new FakeTelemetry();
    const s = scaler({ telemetry });
    feed.publishLeader(5, figures(9)); // 9 replicas, 2 per pod → 5 pods; from 2, step ≤ 3
    await s.trigger();
    expect(api.replicasOf('deployments', NS, 'triton-cls')).to.equal(5);
    expect(patches()).to.deep.equal(['200 {"replicas":5}']);
    // The target went through the fenced desired-state write first.
    expect((await coordinator.readDesired(WORKLOAD_SCALE_KEY))?.spec).to.deep.equal({ workloads: { 'Deployment/serving/triton-cls': { replicas: 5, pipeline: 'images', stage: 'cls' } } });
    expect((await coordinator.readDesired(WORKLOAD_SCALE_KEY))?.epoch).to.equal(5);
    const writes = api.requests.filter((r) => r.method === 'PUT' || r.method === 'PATCH').map((r) => r.path.split('/').slice(-2).join('/'));
    expect(writes).to.deep.equal(['configmaps/inferline-desired-state', 'triton-cls/scale']);
    expect(s.status()[0]).to.include({ target: 5, epoch: 5, observed: 5 });
    expect(logs).to.include('info scaled Deployment serving/triton-cls 2→5 pods: images/cls wants 9 replicas, 2 per pod (desired 5)');
    expect(telemetry.reconciles).to.deep.include({ pipeline: 'images', stage: 'cls', action: 'scale_workload', mode: 'enforce' });

    feed.publishLeader(5, figures(40)); // 20 pods wanted: max 6, from 5 → 6
    await s.trigger();
    expect(api.replicasOf('deployments', NS, 'triton-cls')).to.equal(6);
  });

  it('scales down one maxStepDown at a time, then waits out the cooldown', async () => {
    api.scaleElsewhere('deployments', NS, 'triton-cls', 6);
    const s = scaler();
    feed.publishLeader(5, figures(1)); // 1 pod wanted: down by maxStepDown 1 per action
    await s.trigger();
    expect(api.replicasOf('deployments', NS, 'triton-cls')).to.equal(5);
    expect(logs.some((l) => l.startsWith('info scaled Deployment serving/triton-cls 6→5 pods') && l.includes('step of 1'))).to.equal(true);
    await s.trigger();
    expect(api.replicasOf('deployments', NS, 'triton-cls')).to.equal(5);
    expect(s.status()[0]).to.include({ result: 'held' });
    expect(s.status()[0]?.detail).to.include('cooling down');
  });

  it('fencing: a stale leader\'s patch is never sent', async () => {
    const s = scaler();
    feed.publishLeader(4, figures(9)); // epoch 4; the Lease and the ConfigMap say 5
    await s.trigger();
    expect(patches(), 'no PATCH reached the API server').to.deep.equal([]);
    expect(api.replicasOf('deployments', NS, 'triton-cls')).to.equal(2);
    expect(s.status()[0]).to.include({ result: 'fenced', errorName: 'StaleEpochError' });
    expect(logs.some((l) => l.startsWith('warn Deployment serving/triton-cls not scaled') && l.includes('epoch 4 is stale'))).to.equal(true);
    // And it stays fenced: the next figures of that epoch are not even tried.
    const before = api.requests.length;
    feed.publishLeader(4, figures(11));
    await s.trigger();
    expect(api.requests.length).to.equal(before);
  });

  it('acts only on this process\'s own leadership: stored figures (a follower) scale nothing', async () => {
    const s = scaler();
    feed.publishStored(5, figures(9));
    await s.trigger();
    expect(api.requests.filter((r) => r.path.endsWith('/scale'))).to.deep.equal([]);
    feed.publishLeader(5, figures(9));
    feed.withdraw(5); // leadership ended before the pass ran
    await s.trigger();
    expect(patches()).to.deep.equal([]);
  });

  it('409: reads again and patches from the new Scale', async () => {
    const real = KubernetesScaleClient.create({ kubeConfig: api.kubeConfig(NS), requestTimeoutMs: 2000 });
    let raced = false;
    // Someone else scales between our read and our patch, once.
    const racing: WorkloadScaleClient = {
      read: (ref: WorkloadRef) => real.read(ref),
      patch: async (ref: WorkloadRef, replicas: number, rv: string): Promise<WorkloadScaleStatus> => {
        if (!raced) {
          raced = true;
          api.scaleElsewhere('deployments', NS, 'triton-cls', 3);
        }
        return real.patch(ref, replicas, rv);
      },
    };
    const s = scaler({ client: racing });
    feed.publishLeader(5, figures(9));
    await s.trigger();
    expect(patches()).to.deep.equal(['409 {"replicas":5}', '200 {"replicas":5}']);
    expect(api.replicasOf('deployments', NS, 'triton-cls')).to.equal(5);
  });

  it('403: says which verb on which resource the Role must grant, and changes nothing', async () => {
    api.forbid.add('patch deployments/scale');
    const telemetry = new FakeTelemetry();
    const s = scaler({ telemetry });
    feed.publishLeader(5, figures(9));
    await s.trigger();
    expect(s.status()[0]).to.include({ result: 'failed', errorName: 'ScaleForbiddenError' });
    const line = logs.find((l) => l.startsWith('error workload scaling failed'));
    expect(line).to.include('forbidden to patch deployments/scale of Deployment serving/triton-cls').and.include('"patch" on "deployments/scale"');
    expect(api.replicasOf('deployments', NS, 'triton-cls')).to.equal(2);
    expect(telemetry.reconciles).to.deep.include({ pipeline: 'images', stage: 'cls', action: 'scale_workload', mode: 'enforce', errorType: 'ScaleForbiddenError' });
  });

  it('mode recommend: reports what it would do, patches nothing', async () => {
    const s = scaler({ policy: { ...ENFORCE, mode: 'recommend' } });
    feed.publishLeader(5, figures(9));
    await s.trigger();
    expect(patches()).to.deep.equal([]);
    expect(s.status()[0]).to.include({ result: 'held' });
    expect(logs.some((l) => l.includes('recommend: Deployment serving/triton-cls: 2→5 pods held: mode is recommend'))).to.equal(true);
  });
});
