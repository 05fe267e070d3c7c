import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCoordinator, MemoryCoordinationHub, MemoryCoordinator } from '../../src/coordination/index.js';
import type { EtcdCoordinator } from '../../src/coordination/index.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { edited, load, type Loose } from '../config/fixtures.js';
import { FakeKubeApi } from './fake-kube-api.js';
import { member } from './contract.js';

const configWith = (coordination: Loose) => load(edited((c) => { c.coordination = coordination; })).coordination;

describe('createCoordinator: the config section → a backend', function () {
  let dir = '';
  before(function () { dir = mkdtempSync(join(tmpdir(), 'inferline-coord-')); });
  after(function () { rmSync(dir, { recursive: true, force: true }); });

  it('memory by default, on the hub given', async function () {
    const hub = new MemoryCoordinationHub(new FakeClock());
    const c = await createCoordinator(configWith({}), { identity: 'a', memoryHub: hub });
    expect(c).to.be.instanceOf(MemoryCoordinator);
    expect([c.backend, c.identity]).to.deep.equal(['memory', 'a']);
    await c.start();
    await c.register(member('a'));
    expect(await c.members()).to.have.length(1);
    await c.stop();
  });

  it('etcd: created without connecting; a missing TLS file is a CoordinatorError naming it', async function () {
    const c = await createCoordinator(configWith({ backend: 'etcd', etcd: { endpoints: ['http://10.1.2.3:2379'], prefix: '/fleet/' } }), { identity: 'a' });
    // createCoordinator loads the etcd and Kubernetes modules on demand; under mocha's loader a
    // dynamic import is a second instance of a module, so classes are checked by name here.
    expect(c.constructor.name).to.equal('EtcdCoordinator');
    expect(c.backend).to.equal('etcd');
    expect((c as EtcdCoordinator).prefix).to.equal('/fleet/');
    const err = await createCoordinator(configWith({ backend: 'etcd', etcd: { endpoints: ['https://h:2379'], tls: { ca: join(dir, 'nope.pem') } } }), { identity: 'a' })
      .then(() => undefined, (e: unknown) => e);
    expect((err as Error).name).to.equal('CoordinatorError');
    expect((err as Error).message).to.match(/^etcd: cannot read TLS file .*nope\.pem/);
  });

  it('kubernetes: from a kubeconfig file, talking to the API server it names', async function () {
    const api = await FakeKubeApi.start();
    try {
      const file = join(dir, 'kubeconfig.yaml');
      writeFileSync(file, api.kubeConfig('ml').exportConfig());
      const c = await createCoordinator(configWith({ backend: 'kubernetes', kubernetes: { namespace: 'ml', kubeconfig: file } }), { identity: 'a' });
      expect(c.constructor.name).to.equal('KubernetesCoordinator');
      expect(c.backend).to.equal('kubernetes');
      await c.start();
      await c.register(member('a'));
      expect(api.get('leases', 'ml', 'inferline-member-a')).to.not.equal(undefined);
      await c.stop(2000);
    } finally {
      await api.close();
    }
  });

  it('kubernetes: an unreadable kubeconfig is a CoordinatorError', async function () {
    const err = await createCoordinator(configWith({ backend: 'kubernetes', kubernetes: { kubeconfig: join(dir, 'missing.yaml') } }), { identity: 'a' })
      .then(() => undefined, (e: unknown) => e);
    expect((err as Error).name).to.equal('CoordinatorError');
    expect((err as Error).message).to.match(/^kubernetes: cannot load the kubeconfig .*missing\.yaml/);
  });
});
