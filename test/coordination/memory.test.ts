import { expect } from 'chai';
import { MemoryCoordinationHub, MemoryCoordinator } from '../../src/coordination/memory.js';
import { CoordinatorError, StaleEpochError, type Coordinator } from '../../src/ports/coordinator.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { coordinatorContract, eventually, member, winner, type ContractHarness } from './contract.js';

const TIMING = { leaseDurationMs: 2000, renewDeadlineMs: 1500, retryPeriodMs: 400 };

function memoryHarness(): Promise<ContractHarness & { hub: MemoryCoordinationHub; clock: FakeClock }> {
  const clock = new FakeClock(1_000_000);
  const hub = new MemoryCoordinationHub(clock);
  const started: MemoryCoordinator[] = [];
  return Promise.resolve({
    hub,
    clock,
    timing: TIMING,
    memberTtlMs: 1500,
    async coordinator(identity) {
      const c = await MemoryCoordinator.create({ identity, hub, timing: TIMING, memberTtlMs: 1500 });
      await c.start();
      started.push(c);
      return c;
    },
    kill: (c) => (c as MemoryCoordinator).abandon(),
    elapse: (ms) => clock.advance(ms),
    async cleanup() {
      for (const c of started) {
        const stopping = c.stop(1000);
        await clock.advance(1000);
        await stopping;
      }
    },
  });
}

coordinatorContract('memory (fake clock)', memoryHarness);

describe('memory coordinator', function () {
  it('judges a lease on the hub clock when fencing: a leader that stopped renewing cannot write once its lease ran out', async function () {
    const h = await memoryHarness();
    const a = await h.coordinator('a') as MemoryCoordinator;
    const l = await winner(h, [a], TIMING.leaseDurationMs);
    await a.writeDesired('x', { n: 1 }, l.epoch);
    await h.kill(a); // no renewals from now on
    await h.elapse(TIMING.leaseDurationMs - 100);
    // Still inside the lease on the hub's clock: a write of this epoch (a zombie's) still lands…
    expect(h.hub.currentEpoch('leader')).to.equal(l.epoch);
    await h.elapse(200);
    // …and past it, none does, though no new leader has been elected.
    expect(h.hub.currentEpoch('leader')).to.equal(undefined);
    const b = await h.coordinator('b');
    const err = await b.writeDesired('x', { n: 2 }, l.epoch).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(StaleEpochError);
    expect((await b.readDesired('x'))?.spec).to.deep.equal({ n: 1 });
    await h.cleanup();
  });

  it('refuses calls before start() and after stop() with a CoordinatorError', async function () {
    const hub = new MemoryCoordinationHub(new FakeClock());
    const c: Coordinator = await MemoryCoordinator.create({ identity: 'a', hub });
    for (const call of [() => c.members(), () => c.register(member('a')), () => c.readDesired('a'), () => c.writeDesired('a', {}, 1), () => c.campaign(), () => c.leader()]) {
      const err = await call().then(() => undefined, (e: unknown) => e);
      expect(err).to.be.instanceOf(CoordinatorError);
      expect((err as Error).name).to.equal('CoordinatorError');
    }
    await c.start();
    await c.start();
    expect(await c.members()).to.deep.equal([]);
    await c.stop();
    expect(await c.members().then(() => 'ok', (e: unknown) => (e as Error).name)).to.equal('CoordinatorError');
  });

  it('rejects bad member info and an empty identity', async function () {
    const hub = new MemoryCoordinationHub(new FakeClock());
    expect(await MemoryCoordinator.create({ identity: '', hub }).then(() => 'ok', (e: unknown) => (e as Error).message)).to.match(/identity must not be empty/);
    const c = await MemoryCoordinator.create({ identity: 'a', hub });
    await c.start();
    const err = await c.register(member('a', { capacity: -1 })).then(() => undefined, (e: unknown) => e);
    expect((err as Error).message).to.match(/capacity must be an integer ≥ 0/);
    await c.stop();
  });

  it('a re-registration of the same agent id takes over the entry; renewals of the old one stop counting', async function () {
    const h = await memoryHarness();
    const [a, c] = [await h.coordinator('a'), await h.coordinator('c')];
    const first = await a.register(member('a', { capacity: 1 }));
    await a.register(member('a', { capacity: 5 }));
    expect((await c.members())[0]?.capacity).to.equal(5);
    await first.deregister(); // removes nothing: the entry belongs to the newer registration
    expect((await c.members()).map((m) => m.capacity)).to.deep.equal([5]);
    await eventually(h, 'still there after TTLs', async () => (await c.members()).length === 1, 10);
    await h.cleanup();
  });
});
