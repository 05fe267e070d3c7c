import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import { createCoordinator } from '../../src/coordination/index.js';
import { RemoteCoordinationHub } from '../../src/coordination/hub-client.js';
import { HUB_OPS_PATH, serveCoordinationHub, type ServedHub } from '../../src/coordination/hub-server.js';
import { MemoryCoordinationHub, MemoryCoordinator } from '../../src/coordination/memory.js';
import { resolveCoordination } from '../../src/config/coordination.js';
import { coordinationSchema } from '../../src/config/schema.js';
import type { StaleEpochError } from '../../src/ports/coordinator.js';
import { systemClock } from '../../src/platform/system-clock.js';
import { coordinatorContract, eventually, member, winner, type ContractHarness } from './contract.js';

const TIMING = { leaseDurationMs: 1500, renewDeadlineMs: 1000, retryPeriodMs: 300 };
const MEMBER_TTL_MS = 1500;

function servedHarness(): Promise<ContractHarness & { served: () => ServedHub }> {
  const started: MemoryCoordinator[] = [];
  let served: ServedHub | undefined;
  const hub = new MemoryCoordinationHub(systemClock);
  return Promise.resolve({
    timing: TIMING,
    memberTtlMs: MEMBER_TTL_MS,
    served: () => served as ServedHub,
    async coordinator(identity) {
      served ??= await serveCoordinationHub(hub);
      // Each coordinator with its own client, as each agent process has.
      const c = await MemoryCoordinator.create({ identity, hub: new RemoteCoordinationHub(served.url), timing: TIMING, memberTtlMs: MEMBER_TTL_MS });
      await c.start();
      started.push(c);
      return c;
    },
    kill: (c) => (c as MemoryCoordinator).abandon(),
    elapse: (ms) => sleep(ms),
    async cleanup() {
      await Promise.all(started.map((c) => c.stop(2000)));
      await served?.close();
    },
  });
}

coordinatorContract('memory hub served over loopback (real clock)', servedHarness);

describe('memory hub over loopback', function () {
  this.timeout(30_000);

  it('is what createCoordinator builds from coordination.memory.hubUrl, and fences writes across clients', async function () {
    const hub = new MemoryCoordinationHub(systemClock);
    const served = await serveCoordinationHub(hub);
    const config = (id: string) => resolveCoordination(coordinationSchema.parse({
      memory: { hubUrl: served.url }, leaseDuration: '1500ms', renewDeadline: '1000ms', retryPeriod: '300ms',
    }), `<hub test ${id}>`).config;
    const a = await createCoordinator(config('a'), { identity: 'a' });
    const b = await createCoordinator(config('b'), { identity: 'b' });
    const h: ContractHarness = { timing: TIMING, memberTtlMs: MEMBER_TTL_MS, coordinator: () => Promise.reject(new Error('unused')), kill: () => Promise.resolve(), elapse: (ms) => sleep(ms), cleanup: () => Promise.resolve() };
    try {
      await a.start();
      await b.start();
      expect(config('a').memory.hubUrl).to.equal(served.url);
      await a.register(member('a'));
      const seen: string[][] = [];
      await b.watchMembers((m) => seen.push(m.map((x) => x.agentId)));
      const l = await winner(h, [a], 3000);
      // The record lands in the parent's hub, and b's watch hears of it through the long-poll.
      const got: unknown[] = [];
      await b.watchDesired('x', (r) => got.push(r?.spec));
      await a.writeDesired('x', { n: 1 }, l.epoch);
      expect(hub.readDesired('x')?.spec).to.deep.equal({ n: 1 });
      await eventually(h, 'b sees the write', () => got.some((s) => JSON.stringify(s) === '{"n":1}'), 2000, 20);
      expect(seen.at(-1)).to.deep.equal(['a']);
      const err = await b.writeDesired('x', { n: 2 }, l.epoch + 1).then(() => undefined, (e: unknown) => e);
      // By name: a backend loaded on demand may carry its own copy of the error classes under tsx.
      expect((err as Error).name).to.equal('StaleEpochError');
      expect((err as StaleEpochError).currentEpoch).to.equal(l.epoch);
    } finally {
      await a.stop(2000);
      await b.stop(2000);
      await served.close();
    }
  });

  it('answers bad input with 400 and changes nothing', async function () {
    const hub = new MemoryCoordinationHub(systemClock);
    const served = await serveCoordinationHub(hub);
    try {
      const post = (body: string) => fetch(`${served.url}${HUB_OPS_PATH}`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
      const cases = [
        { name: 'not JSON', body: '{' },
        { name: 'unknown op', body: JSON.stringify({ op: 'drop.all' }) },
        { name: 'a member without an id', body: JSON.stringify({ op: 'member.put', info: { agentId: '', serverKind: 'triton', hardware: 'h', models: [], capacity: 1 }, ttlMs: 1000, owner: 'o' }) },
        { name: 'a write with a fractional epoch', body: JSON.stringify({ op: 'desired.write', lockName: 'leader', agentId: 'x', spec: {}, epoch: 1.5, writtenBy: 'a' }) },
      ];
      for (const c of cases) {
        const res = await post(c.body);
        expect(res.status, c.name).to.equal(400);
        await res.arrayBuffer();
      }
      expect(hub.liveMembers()).to.deep.equal([]);
      expect(hub.readDesired('x')).to.equal(undefined);
      const res = await fetch(`${served.url}/v1/hub/events?after=x`);
      expect(res.status).to.equal(400);
      await res.arrayBuffer();
    } finally {
      await served.close();
    }
  });
});
