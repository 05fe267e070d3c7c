// The scale-subresource client against a fake API server on recorded-shape bodies (fixtures/,
// see its README): the requests it sends (GET, then PATCH as a JSON merge patch with the
// resourceVersion read) and the typed errors of 409, 403 and 404.
import { expect } from 'chai';
import { KubernetesScaleClient } from '../../src/coordination/kubernetes-scale.js';
import { ScaleConflictError, ScaleForbiddenError, ScaleRequestError } from '../../src/ports/workload-scale.js';
import type { WorkloadRef } from '../../src/ports/workload-scale.js';
import { FakeKubeApi, fixture } from './fake-kube-api.js';

const NS = 'serving';
const CLS: WorkloadRef = { kind: 'Deployment', namespace: NS, name: 'triton-cls' };
const DB: WorkloadRef = { kind: 'StatefulSet', namespace: NS, name: 'tfs-ranker' };

describe('kubernetes scale subresource client (fake API server on recorded bodies)', function () {
  let api: FakeKubeApi;
  let client: KubernetesScaleClient;
  beforeEach(async function () {
    api = await FakeKubeApi.start();
    api.seedWorkload('deployments', NS, 'triton-cls', 2);
    api.seedWorkload('statefulsets', NS, 'tfs-ranker', 1);
    client = KubernetesScaleClient.create({ kubeConfig: api.kubeConfig(NS), requestTimeoutMs: 2000 });
  });
  afterEach(async function () { await api.close(); });

  it('the recorded Scale has the shape the client reads', () => {
    const scale = fixture<{ apiVersion: string; kind: string; spec: { replicas: number }; status: { replicas: number; selector: string } }>('scale-deployment.json');
    expect([scale.apiVersion, scale.kind]).to.deep.equal(['autoscaling/v1', 'Scale']);
    expect(scale.spec.replicas).to.be.a('number');
    expect(scale.status.selector).to.be.a('string');
  });

  it('reads a Deployment\'s and a StatefulSet\'s Scale', async () => {
    const d = await client.read(CLS);
    expect(d).to.include({ replicas: 2, currentReplicas: 2 });
    expect(d.resourceVersion).to.match(/^\d+$/);
    expect((await client.read(DB)).replicas).to.equal(1);
    expect(api.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).to.deep.equal([
      'GET /apis/apps/v1/namespaces/serving/deployments/triton-cls/scale 200',
      'GET /apis/apps/v1/namespaces/serving/statefulsets/tfs-ranker/scale 200',
    ]);
  });

  it('patches spec.replicas as a JSON merge patch carrying the resourceVersion read', async () => {
    const before = await client.read(CLS);
    const after = await client.patch(CLS, 5, before.resourceVersion);
    expect(after.replicas).to.equal(5);
    expect(after.resourceVersion).to.not.equal(before.resourceVersion);
    expect(api.replicasOf('deployments', NS, 'triton-cls')).to.equal(5);
    const patch = api.requests.find((r) => r.method === 'PATCH');
    expect(patch?.path).to.equal('/apis/apps/v1/namespaces/serving/deployments/triton-cls/scale');
    expect(patch?.status).to.equal(200, 'the fake takes only application/merge-patch+json (415 otherwise)');
    expect(patch?.body).to.deep.equal({ metadata: { resourceVersion: before.resourceVersion }, spec: { replicas: 5 } });
    await client.patch(DB, 3, (await client.read(DB)).resourceVersion);
    expect(api.replicasOf('statefulsets', NS, 'tfs-ranker')).to.equal(3);
  });

  it('409: a Scale changed since it was read is a ScaleConflictError, and nothing is changed', async () => {
    const before = await client.read(CLS);
    api.scaleElsewhere('deployments', NS, 'triton-cls', 4);
    const err = await client.patch(CLS, 6, before.resourceVersion).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(ScaleConflictError);
    expect((err as Error).name).to.equal('ScaleConflictError');
    expect((err as Error).message).to.include('the object has been modified');
    expect(api.replicasOf('deployments', NS, 'triton-cls')).to.equal(4);
  });

  it('403: missing RBAC is a ScaleForbiddenError naming the verb and the resource to grant', async () => {
    api.forbid.add('patch deployments/scale');
    const { resourceVersion } = await client.read(CLS);
    const err = await client.patch(CLS, 6, resourceVersion).then(() => undefined, (e: unknown) => e) as ScaleForbiddenError;
    expect(err).to.be.instanceOf(ScaleForbiddenError);
    expect(err.name).to.equal('ScaleForbiddenError');
    expect([err.verb, err.resource]).to.deep.equal(['patch', 'deployments/scale']);
    expect(err.message).to.include('"patch" on "deployments/scale"').and.to.include('resourceNames ["triton-cls"]');
    expect(err.message).to.include('cannot patch resource "deployments/scale" in API group "apps"');
    api.forbid.add('get statefulsets/scale');
    const denied = await client.read(DB).then(() => undefined, (e: unknown) => e) as ScaleForbiddenError;
    expect([denied.verb, denied.resource]).to.deep.equal(['get', 'statefulsets/scale']);
    expect(api.replicasOf('deployments', NS, 'triton-cls')).to.equal(2);
  });

  it('404 and an unreachable API server are ScaleRequestErrors with the status when there was one', async () => {
    const missing = await client.read({ kind: 'Deployment', namespace: NS, name: 'nope' }).then(() => undefined, (e: unknown) => e) as ScaleRequestError;
    expect(missing).to.be.instanceOf(ScaleRequestError);
    expect(missing.status).to.equal(404);
    expect(missing.message).to.include('deployments/scale of Deployment serving/nope');
    api.down = true;
    const down = await client.read(CLS).then(() => undefined, (e: unknown) => e) as ScaleRequestError;
    expect(down.status).to.equal(503);
  });
});
