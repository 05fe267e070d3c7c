import { expect } from 'chai';
import { startTritonEmulator } from '../../../src/emulator/index.js';
import { normaliseProfiles } from '../../../src/core/model/profiles.js';
import { agentCredential } from '../../../src/runtime/agent/credential.js';
import { PROFILES, startFleet, until, TOKEN } from './fleet-fixture.js';
import type { Coordinator, DesiredStateRecord } from '../../../src/ports/coordinator.js';
import { hasReplicaControl } from '../../../src/ports/server-adapter.js';
import { createAdapter } from '../../../adapters/registry.js';

const sample = (model: string) => ({ model, fromMs: 0, toMs: 1000, arrivals: 100000, rates: {} });

describe('runtime/agent: fleet safety (memory coordinator, emulated Triton)', function () {
  this.timeout(60_000);

  it('the leader takes samples only from members, only as themselves, only for their models: the rest is 403 and counted', async () => {
    const fleet = await startFleet([
      { id: 'a-pre', model: 'preprocess', hardware: 'cpu' },
      { id: 'b-cls', model: 'classify', hardware: 'gpu' },
    ]);
    try {
      const leader = await until('a leader', () => fleet.members.find((m) => m.agent.isLeader));
      await until('a plan', () => (leader.agent.status() as { fleet?: { pipelines: { plan?: unknown }[] } }).fleet?.pipelines[0]?.plan);
      const push = (agentId: string, credential: string | undefined, model = 'preprocess') => fetch(`${leader.agent.url}/v1/samples`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, ...(credential === undefined ? {} : { 'x-inferline-credential': credential }) },
        body: JSON.stringify({ agentId, samples: [sample(model)] }),
      });
      const intruder = await push('intruder', agentCredential(TOKEN, 'intruder'));
      expect(intruder.status, `${await intruder.clone().text()}\n${fleet.members.map((m) => m.logs.join('\n')).join('\n---\n')}`).to.equal(403);
      expect(await intruder.text()).to.include('not a member');
      const noCredential = await push('a-pre', undefined);
      expect(noCredential.status).to.equal(403);
      const otherCredential = await push('a-pre', agentCredential(TOKEN, 'b-cls'));
      expect(otherCredential.status).to.equal(403);
      const foreign = await push('a-pre', agentCredential(TOKEN, 'a-pre'), 'classify');
      expect(foreign.status).to.equal(403);
      const ok = await push('a-pre', agentCredential(TOKEN, 'a-pre'));
      expect(ok.status).to.equal(204);
      expect(leader.telemetry.rejectedPushes.map((r) => r.reason)).to.deep.equal(['unknown-member', 'bad-credential', 'bad-credential', 'foreign-model']);
      // The followers' own pushes (with their credentials) still reach the leader.
      const follower = fleet.members.find((m) => m !== leader);
      await until('a follower push accepted', async () => {
        const st = await (await fetch(`${follower?.agent.url}/v1/status`)).json() as { samples: { pushed: number } };
        return st.samples.pushed > 2;
      });
      expect(leader.telemetry.rejectedPushes).to.have.length(4);
    } finally {
      await fleet.stop();
    }
  });

  it('/v1/status shows config and fleet only with the bearer token', async () => {
    const fleet = await startFleet([{ id: 'a-pre', model: 'preprocess', hardware: 'cpu' }]);
    try {
      const m = fleet.members[0];
      await until('a leader', () => m?.agent.isLeader);
      const open = await (await fetch(`${m?.agent.url}/v1/status`)).json() as Record<string, unknown>;
      expect(open).to.not.have.property('config');
      expect(open).to.not.have.property('fleet');
      expect(open['restricted']).to.be.a('string');
      expect(open['leader']).to.be.an('object');
      const wrong = await (await fetch(`${m?.agent.url}/v1/status`, { headers: { authorization: 'Bearer not-the-token-at-all' } })).json() as Record<string, unknown>;
      expect(wrong).to.not.have.property('config');
      const full = await (await fetch(`${m?.agent.url}/v1/status`, { headers: { authorization: `Bearer ${TOKEN}` } })).json() as Record<string, unknown>;
      expect(full).to.have.property('config');
      expect(full).to.have.property('fleet');
    } finally {
      await fleet.stop();
    }
  });

  it('a server that stops answering is logged once, /readyz turns 503; when it answers again that is logged and /readyz is 200', async () => {
    const fleet = await startFleet([{ id: 'a-pre', model: 'preprocess', hardware: 'cpu' }]);
    const m = fleet.members[0];
    let again: Awaited<ReturnType<typeof startTritonEmulator>> | undefined;
    try {
      await until('ready', async () => (await fetch(`${m?.agent.url}/readyz`)).status === 200);
      const port = Number(new URL(m?.server.url as string).port);
      const metricsPort = Number(new URL(m?.server.metricsUrl as string).port);
      await m?.server.stop();
      await until('not ready', async () => (await fetch(`${m?.agent.url}/readyz`)).status === 503);
      const body = await (await fetch(`${m?.agent.url}/readyz`)).json() as { reason: string };
      expect(body.reason).to.include('not answering');
      await new Promise((ok) => setTimeout(ok, 1500)); // several scrapes fail meanwhile
      expect(m?.logs.filter((l) => l.includes('is not answering'))).to.have.length(1);
      const { profiles } = normaliseProfiles(PROFILES, () => 'p');
      again = await startTritonEmulator({ profiles: profiles.filter((p) => p.model === 'preprocess'), hardware: 'cpu', port, metricsPort, reloadDelayMs: 10 });
      await until('ready again', async () => (await fetch(`${m?.agent.url}/readyz`)).status === 200);
      expect(m?.logs.filter((l) => l.includes('answers again'))).to.have.length(1);
    } finally {
      await fleet.stop().catch(() => undefined);
      await again?.stop();
    }
  });
});

describe('runtime/agent: a stale desired-state record (memory coordinator, a record injected into the watch)', function () {
  this.timeout(60_000);

  it('is never applied nor reported as desired; the last legitimate state stays enforced and a server knocked off it is repaired', async () => {
    // The watch of b-cls's desired state, captured so that the test can deliver a record the
    // backend would have refused to write (a zombie's, a restored backup's).
    let deliver: ((r: DesiredStateRecord | undefined) => void) | undefined;
    const wrap = (agentId: string, c: Coordinator): Coordinator => {
      if (agentId !== 'b-cls') return c;
      const watchDesired = async (id: string, listener: (r: DesiredStateRecord | undefined) => void) => {
        if (id === 'b-cls') deliver = listener;
        return c.watchDesired(id, listener);
      };
      return new Proxy(c, {
        get: (target, key) => {
          if (key === 'watchDesired') return watchDesired;
          const v = Reflect.get(target, key, target) as unknown;
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
      });
    };
    const fleet = await startFleet([
      { id: 'a-pre', model: 'preprocess', hardware: 'cpu' },
      { id: 'b-cls', model: 'classify', hardware: 'gpu' },
    ], { wrapCoordinator: wrap });
    try {
      const cls = fleet.members[1];
      const status = () => cls?.agent.status() as { desired?: { epoch: number; revision: string; enforced: boolean; models: { model: string; replicas: number }[] }; desiredIgnored?: { epoch: number; reason: string } };
      const legit = await until('b-cls enforcing a desired state', () => status().desired);
      const want = legit.models.find((m) => m.model === 'classify')?.replicas as number;
      await until('classify at the desired replicas', () => cls?.server.engine('classify')?.replicas === want);
      expect(legit.epoch).to.be.above(0);
      deliver?.({ agentId: 'b-cls', spec: { models: [{ model: 'classify', replicas: want + 3 }], stages: {}, plans: [] }, epoch: legit.epoch - 1, writtenBy: 'zombie', revision: 'zombie-1' });
      // The server knocked off its desired state through its own API (a restart, an operator).
      const adapter = createAdapter({ kind: 'triton', url: cls?.server.url as string, timeoutMs: 2000 });
      if (!hasReplicaControl(adapter)) throw new Error('the Triton adapter controls replicas');
      await adapter.setReplicas('classify', want + 3);
      expect(cls?.server.engine('classify')?.replicas).to.equal(want + 3);
      await until('classify repaired to the legitimate replicas', () => cls?.server.engine('classify')?.replicas === want);
      const s = status();
      expect(s.desired?.epoch).to.equal(legit.epoch);
      expect(s.desired?.revision).to.equal(legit.revision);
      expect(s.desired?.enforced).to.equal(true);
      expect(s.desiredIgnored?.epoch).to.equal(legit.epoch - 1);
      // Epoch 0 when the fleet is at epoch 1: stale either way (fence.test.ts has each reason).
      expect(s.desiredIgnored?.reason).to.match(legit.epoch > 1 ? new RegExp(`older than the current leader epoch ${legit.epoch}`) : /epoch 0 is not a leader epoch/);
      expect(cls?.logs.filter((l) => l.includes('revision zombie-1'))).to.have.length(1);
    } finally {
      await fleet.stop();
    }
  });
});
