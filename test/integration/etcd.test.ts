// The Coordinator contract and the etcd backend's failure behaviour against a REAL etcd (Debian's
// etcd-server, installed by .ci/install-services.sh), started on free loopback ports with its data
// in a temp dir and stopped by pid. Skipped, with the reason printed, only when etcd is not
// installed; INFERLINE_REQUIRE_SERVICES=1 turns that skip into a failure.
import { expect } from 'chai';
import { Etcd3 } from 'etcd3';
import { setTimeout as sleep } from 'node:timers/promises';
import { EtcdCoordinator } from '../../src/coordination/etcd.js';
import { CoordinatorError, LeaseLostError, StaleEpochError, type DesiredStateRecord, type LeaderSnapshot, type MemberInfo } from '../../src/ports/coordinator.js';
import { coordinatorContract, eventually, member, winner, type ContractHarness } from '../coordination/contract.js';
import { etcdOrSkip, startEtcd, type EtcdHandle } from './etcd/etcd-process.js';

const TIMING = { leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 500 };
const MEMBER_TTL_MS = 2000; // etcd's smallest lease TTL with default election settings is 2 s

let etcd: EtcdHandle | undefined;
let prefixes = 0;

function server(): EtcdHandle {
  if (etcd === undefined) throw new Error('etcd not started');
  return etcd;
}

function etcdHarness(): Promise<ContractHarness> {
  const prefix = `/inferline-test-${process.pid}-${++prefixes}/`;
  const started: EtcdCoordinator[] = [];
  return Promise.resolve({
    timing: TIMING,
    memberTtlMs: MEMBER_TTL_MS,
    async coordinator(identity) {
      const c = await EtcdCoordinator.create({ identity, endpoints: [server().endpoint], prefix, timing: TIMING, memberTtlMs: MEMBER_TTL_MS, requestTimeoutMs: 2000 });
      await c.start();
      started.push(c);
      return c;
    },
    kill: (c) => (c as EtcdCoordinator).abandon(),
    elapse: (ms) => sleep(ms),
    async cleanup() {
      await Promise.all(started.map((c) => c.stop(3000)));
    },
  });
}

describe('real etcd', function () {
  this.timeout(120_000);

  before(async function () {
    const bin = etcdOrSkip(this);
    const t0 = Date.now();
    etcd = await startEtcd(bin);
    console.log(`      etcd ${bin} on ${etcd.endpoint} (peer ${etcd.peerPort}, pid ${etcd.pid()}), ready in ${Date.now() - t0} ms`);
  });

  after(async function () {
    await etcd?.dispose();
    etcd = undefined;
  });

  coordinatorContract('etcd (real etcd server)', etcdHarness);

  describe('etcd backend under failure', function () {
    let h: ContractHarness;
    beforeEach(async function () { h = await etcdHarness(); });
    afterEach(async function () {
      await server().start(); // a test that failed mid-outage leaves etcd stopped
      await h.cleanup();
    });

    it('uses the leader key\'s create revision as the epoch, and fences with it in one transaction', async function () {
      const [a, b] = [await h.coordinator('a'), await h.coordinator('b')];
      const l = await winner(h, [a], TIMING.leaseDurationMs);
      const raw = new Etcd3({ hosts: server().endpoint });
      try {
        const ns = raw.namespace((a as EtcdCoordinator).prefix);
        const kv = (await ns.get('leader').exec()).kvs[0];
        expect(Number(kv?.create_revision)).to.equal(l.epoch);
        // Deleting the leader key from outside ends the leadership at once (the watch sees it).
        const t0 = Date.now();
        await ns.delete().key('leader');
        await eventually(h, 'the leader notices', () => l.signal.aborted, 2000, 20);
        expect((l.signal.reason as LeaseLostError).reason).to.equal('deleted');
        console.log(`        leader key deleted → LeaseLostError('deleted') after ${Date.now() - t0} ms`);
        const err = await b.writeDesired('x', { n: 1 }, l.epoch).then(() => undefined, (e: unknown) => e);
        expect(err).to.be.instanceOf(StaleEpochError);
        // Epoch 0 would match a missing key's create revision: refused before reaching etcd.
        expect(await b.writeDesired('x', {}, 0).then(() => undefined, (e: unknown) => (e as Error).name)).to.equal('StaleEpochError');
      } finally {
        raw.close();
      }
    });

    it('a leader cut off from etcd gets LeaseLostError within the renew deadline and stops; its old epoch is rejected once etcd is back', async function () {
      const [a, b, c] = [await h.coordinator('a'), await h.coordinator('b'), await h.coordinator('c')];
      const l = await winner(h, [a], TIMING.leaseDurationMs);
      await a.writeDesired('a', { models: { m: { replicas: 2 } } }, l.epoch);
      const before = await a.readDesired('a');
      const t0 = Date.now();
      await server().stop();
      const stopMs = Date.now() - t0;
      await eventually(h, 'the leader gives up', () => l.signal.aborted, TIMING.leaseDurationMs + 2000, 20);
      const lostAfter = Date.now() - t0;
      const reason = l.signal.reason as LeaseLostError;
      expect(reason).to.be.instanceOf(LeaseLostError);
      expect(reason.name).to.equal('LeaseLostError');
      expect(reason.reason).to.equal('renew-deadline');
      // It stops before its lease could have expired for anybody else.
      expect(lostAfter, 'loss after the outage began').to.be.below(TIMING.leaseDurationMs);
      console.log(`        etcd stopped in ${stopMs} ms; leader lost its lease ${lostAfter} ms after the stop began (renew deadline ${TIMING.renewDeadlineMs} ms, TTL ${TIMING.leaseDurationMs} ms)`);
      // While etcd is down, calls fail with a CoordinatorError that names the backend.
      const down = await b.members().then(() => undefined, (e: unknown) => e);
      expect(down).to.be.instanceOf(CoordinatorError);
      expect((down as Error).message).to.match(/^etcd: cannot list members/);

      const t1 = Date.now();
      await server().start();
      const next = await winner(h, [b, c], TIMING.leaseDurationMs);
      console.log(`        etcd restarted; new leader ${next.agentId} (epoch ${l.epoch} → ${next.epoch}) ${Date.now() - t1} ms after the restart began`);
      expect(next.epoch).to.be.greaterThan(l.epoch);
      const replay = await a.writeDesired('a', { models: { m: { replicas: 9 } } }, l.epoch).then(() => undefined, (e: unknown) => e);
      expect(replay).to.be.instanceOf(StaleEpochError);
      expect((replay as StaleEpochError).currentEpoch).to.equal(next.epoch);
      expect(await c.readDesired('a')).to.deep.equal(before);
    });

    it('clients recover after etcd is stopped for a few seconds: members, leader, writes and watches', async function () {
      const cs = [await h.coordinator('a'), await h.coordinator('b'), await h.coordinator('c')];
      for (const c of cs) await c.register(member(c.identity));
      const leaders: LeaderSnapshot[] = [];
      const memberLists: MemberInfo[][] = [];
      const desired: (DesiredStateRecord | undefined)[] = [];
      const watcher = cs[2]!;
      await watcher.watchLeader((s) => leaders.push(s));
      await watcher.watchMembers((ms) => memberLists.push([...ms]));
      await watcher.watchDesired('b', (r) => desired.push(r));
      const first = await winner(h, cs, TIMING.leaseDurationMs);
      const leaderCoordinator = cs.find((c) => c.identity === first.agentId)!;
      await leaderCoordinator.writeDesired('b', { v: 1 }, first.epoch);
      await eventually(h, 'the desired watch fires', () => desired.at(-1)?.spec !== undefined, 2000);

      const outageMs = 4000;
      const t0 = Date.now();
      await server().stop();
      await sleep(outageMs - (Date.now() - t0));
      const t1 = Date.now();
      await server().start();
      const restartMs = Date.now() - t1;

      // Every member is listed again (their leases survived the outage, or they registered anew).
      const membersBack = await eventually(h, 'all three members listed', async () => {
        try { return (await watcher.members()).length === 3; } catch { return false; }
      }, 20_000, 100);
      // One leader: the old one if its lease held, else a new one (campaigning again).
      let current = first.signal.aborted ? undefined : first;
      const renewed = current !== undefined;
      if (current === undefined) current = await winner(h, cs, TIMING.leaseDurationMs);
      const writer = cs.find((c) => c.identity === current!.agentId)!;
      const tWrite = Date.now();
      await eventually(h, 'a fenced write succeeds', async () => {
        try { await writer.writeDesired('b', { v: 2 }, current!.epoch); return true; } catch { return false; }
      }, 20_000, 100);
      const writeMs = Date.now() - tWrite;
      await eventually(h, 'the desired watch delivers the write made after the restart', () => JSON.stringify(desired.at(-1)?.spec) === '{"v":2}', 10_000, 50);
      await eventually(h, 'the member watch shows three members', () => memberLists.at(-1)?.length === 3, 10_000, 50);
      await eventually(h, 'the leader watch shows the leader', () => leaders.at(-1)?.leaderId === current!.agentId, 10_000, 50);
      // Each client's circuit breaker closes on its own schedule after the outage: ask until all answer.
      await eventually(h, 'every client answers and all agree on one leader', async () => {
        try {
          const snapshots = await Promise.all(cs.map((c) => c.leader()));
          return new Set(snapshots.map((s) => `${s.leaderId}@${s.epoch}`)).size === 1;
        } catch {
          return false;
        }
      }, 20_000, 100);
      console.log(`        outage ${outageMs} ms, restart ${restartMs} ms; members back ${membersBack} ms after restart; `
        + `${renewed ? `leader ${first.agentId} kept epoch ${first.epoch}` : `new leader ${current.agentId} epoch ${current.epoch} (was ${first.epoch})`}; `
        + `first fenced write ${writeMs} ms after that`);
    });

    it('a watch whose etcd stream is lost still delivers, by its periodic re-read (resync)', async function () {
      const prefix = `/inferline-test-${process.pid}-resync/`;
      const mk = async (identity: string) => {
        const c = await EtcdCoordinator.create({ identity, endpoints: [server().endpoint], prefix, timing: TIMING, memberTtlMs: MEMBER_TTL_MS, requestTimeoutMs: 2000, watchResyncMs: 300 });
        await c.start();
        return c;
      };
      const [a, b] = [await mk('a'), await mk('b')];
      try {
        const l = await winner(h, [a], TIMING.leaseDurationMs);
        const seen: (DesiredStateRecord | undefined)[] = [];
        await b.watchDesired('x', (r) => seen.push(r));
        // Lose b's stream for the key (as a restart can): no event will come through it any more.
        const watches = (b as unknown as { desiredWatches: Map<string, { watcher: { cancel(): Promise<void> } }> }).desiredWatches;
        await watches.get('x')?.watcher.cancel();
        await a.writeDesired('x', { v: 7 }, l.epoch);
        const waited = await eventually(h, 'the resync delivers the write', () => JSON.stringify(seen.at(-1)?.spec) === '{"v":7}', 3000, 20);
        expect(waited).to.be.below(1500);
      } finally {
        await Promise.all([a.stop(2000), b.stop(2000)]);
      }
    });
  });
});
