// The Coordinator contract: one suite, run against every backend (memory with a fake clock, real
// etcd, Kubernetes against the fake API server). A harness gives started coordinators of one
// cluster, a way to kill one as `kill -9` would (no resign, no deregister), and its notion of
// time passing, so the same assertions hold on a fake clock and on a real one.
import { expect } from 'chai';
import type { ElectionTiming } from '../../src/core/fleet/election.js';
import {
  LeaseLostError, StaleEpochError, type Coordinator, type DesiredStateRecord, type LeaderSnapshot, type Leadership, type MemberInfo,
} from '../../src/ports/coordinator.js';

export interface ContractHarness {
  readonly timing: ElectionTiming;
  readonly memberTtlMs: number;
  /** A started coordinator of the harness's cluster. */
  coordinator(identity: string): Promise<Coordinator>;
  /** Stops `c` without resigning or deregistering. */
  kill(c: Coordinator): Promise<void>;
  /** Lets `ms` of the harness's time pass. */
  elapse(ms: number): Promise<void>;
  /** Stops everything the harness started. */
  cleanup(): Promise<void>;
}

export function member(agentId: string, extra: Partial<MemberInfo> = {}): MemberInfo {
  return { agentId, serverKind: 'triton', hardware: 'gpu-t4', models: ['resnet'], capacity: 4, endpoint: `http://127.0.0.1:9/${agentId}`, ...extra };
}

/** Polls `probe` as harness time passes; fails after `withinMs` of it. Returns the harness ms it took. */
export async function eventually(h: ContractHarness, what: string, probe: () => boolean | Promise<boolean>, withinMs: number, stepMs = 50): Promise<number> {
  let waited = 0;
  for (;;) {
    if (await probe()) return waited;
    if (waited >= withinMs) throw new Error(`not within ${withinMs} ms: ${what}`);
    await h.elapse(stepMs);
    waited += stepMs;
  }
}

/** Starts a campaign and records when it resolves. */
function campaignOf(c: Coordinator): { leadership: () => Leadership | undefined; failed: () => unknown; abort: AbortController } {
  const abort = new AbortController();
  let won: Leadership | undefined;
  let err: unknown;
  c.campaign({ signal: abort.signal }).then((l) => { won = l; }, (e: unknown) => { err = e; });
  return { leadership: () => won, failed: () => err, abort };
}

export function coordinatorContract(name: string, makeHarness: () => Promise<ContractHarness>): void {
  describe(`Coordinator contract: ${name}`, function () {
    let h: ContractHarness;
    beforeEach(async function () { h = await makeHarness(); });
    afterEach(async function () { await h.cleanup(); });

    const lease = (): number => h.timing.leaseDurationMs;

    it('elects exactly one leader among three candidates, and every member sees it with its epoch', async function () {
      const cs = await Promise.all(['a', 'b', 'c'].map((id) => h.coordinator(id)));
      const campaigns = cs.map(campaignOf);
      await eventually(h, 'a leader', () => campaigns.some((x) => x.leadership() !== undefined), 4 * lease());
      // Two more lease durations: the leader renews, nobody else wins.
      await h.elapse(2 * lease());
      const winners = campaigns.map((x) => x.leadership()).filter((l): l is Leadership => l !== undefined);
      expect(winners.map((l) => l.agentId)).to.have.length(1);
      const leader = winners[0] as Leadership;
      expect(leader.signal.aborted).to.equal(false);
      expect(leader.epoch).to.be.greaterThan(0);
      for (const c of cs) {
        expect(await c.leader(), `as ${c.identity} sees it`).to.deep.equal({ leaderId: leader.agentId, epoch: leader.epoch });
      }
      for (const x of campaigns) x.abort.abort();
    });

    it('increases the epoch monotonically across leader changes (resign, kill, re-election)', async function () {
      const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((id) => h.coordinator(id))) as [Coordinator, Coordinator, Coordinator];
      const seen: LeaderSnapshot[] = [];
      const watch = await a.watchLeader((s) => seen.push(s));
      const epochs: number[] = [];

      const first = await winner(h, [a], lease());
      epochs.push(first.epoch);
      const second = campaignOf(b);
      await first.resign();
      await eventually(h, 'b elected after a resigned', () => second.leadership() !== undefined, 4 * lease());
      epochs.push((second.leadership() as Leadership).epoch);

      const third = campaignOf(c);
      await h.elapse(lease() / 2);
      expect(third.leadership(), 'c must not win while b holds the lease').to.equal(undefined);
      await h.kill(b);
      await eventually(h, 'c elected after b was killed', () => third.leadership() !== undefined, 6 * lease());
      epochs.push((third.leadership() as Leadership).epoch);

      const fourth = campaignOf(a);
      await (third.leadership() as Leadership).resign();
      await eventually(h, 'a elected again', () => fourth.leadership() !== undefined, 4 * lease());
      epochs.push((fourth.leadership() as Leadership).epoch);

      for (let i = 1; i < epochs.length; i++) expect(epochs[i], `epochs ${epochs.join(', ')}`).to.be.greaterThan(epochs[i - 1] as number);
      await eventually(h, "the watcher's last snapshot is a's new term", () => seen.at(-1)?.epoch === epochs[3], 2 * lease());
      const watched = seen.filter((s) => s.leaderId !== undefined).map((s) => s.epoch);
      for (let i = 1; i < watched.length; i++) expect(watched[i]).to.be.at.least(watched[i - 1] as number);
      expect(seen.at(-1)).to.deep.equal({ leaderId: 'a', epoch: epochs[3] });
      await watch.close();
    });

    it('rejects a write with a stale epoch atomically: a replay after a new leader is elected changes nothing', async function () {
      const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((id) => h.coordinator(id))) as [Coordinator, Coordinator, Coordinator];
      const old = await winner(h, [a], lease());
      const spec1 = { models: { resnet: { replicas: 2, batch: 8 } } };
      const written = await a.writeDesired('agent-x', spec1, old.epoch);
      expect(written).to.include({ agentId: 'agent-x', epoch: old.epoch, writtenBy: 'a' });
      expect(written.spec).to.deep.equal(spec1);

      const next = campaignOf(b);
      await old.resign();
      expect(old.signal.aborted).to.equal(true);
      expect(old.signal.reason).to.be.instanceOf(LeaseLostError);
      await eventually(h, 'b elected', () => next.leadership() !== undefined, 4 * lease());
      const current = next.leadership() as Leadership;
      expect(current.epoch).to.be.greaterThan(old.epoch);

      const events: (DesiredStateRecord | undefined)[] = [];
      const watch = await c.watchDesired('agent-x', (r) => events.push(r));
      await eventually(h, 'the watch delivers the current record', () => events.length === 1, lease());
      // The replay: the deposed leader's write, and the same write from another member.
      for (const writer of [a, c]) {
        const err = await writer.writeDesired('agent-x', { models: { resnet: { replicas: 99 } } }, old.epoch).then(() => undefined, (e: unknown) => e);
        expect(err, `replay through ${writer.identity}`).to.be.instanceOf(StaleEpochError);
        expect((err as StaleEpochError).name).to.equal('StaleEpochError');
        expect((err as StaleEpochError).epoch).to.equal(old.epoch);
        expect((err as StaleEpochError).currentEpoch).to.equal(current.epoch);
      }
      // Racing writes of both epochs: only the current epoch's land.
      const race = await Promise.allSettled([
        a.writeDesired('agent-x', { models: { resnet: { replicas: 7 } } }, old.epoch),
        b.writeDesired('agent-x', { models: { resnet: { replicas: 3 } } }, current.epoch),
        c.writeDesired('agent-y', { models: {} }, old.epoch),
      ]);
      expect(race.map((r) => r.status)).to.deep.equal(['rejected', 'fulfilled', 'rejected']);
      const after = await c.readDesired('agent-x');
      expect(after?.spec).to.deep.equal({ models: { resnet: { replicas: 3 } } });
      expect(after?.epoch).to.equal(current.epoch);
      expect(await c.readDesired('agent-y')).to.equal(undefined);
      await eventually(h, 'the watch sees the one accepted write', () => events.length === 2, lease());
      await h.elapse(h.timing.retryPeriodMs * 2);
      expect(events.map((r) => r?.spec)).to.deep.equal([spec1, { models: { resnet: { replicas: 3 } } }]);
      await watch.close();
    });

    it('rejects writes once the leadership has ended, even with no new leader', async function () {
      const [a, b] = await Promise.all(['a', 'b'].map((id) => h.coordinator(id))) as [Coordinator, Coordinator];
      const l = await winner(h, [a], lease());
      await l.resign();
      const err = await b.writeDesired('agent-x', { n: 1 }, l.epoch).then(() => undefined, (e: unknown) => e);
      expect(err).to.be.instanceOf(StaleEpochError);
      expect((err as StaleEpochError).currentEpoch).to.equal(undefined);
      expect(await b.readDesired('agent-x')).to.equal(undefined);
    });

    it('hands over on resign at once, well before the lease would expire', async function () {
      const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((id) => h.coordinator(id))) as [Coordinator, Coordinator, Coordinator];
      const first = await winner(h, [a], lease());
      const others = [campaignOf(b), campaignOf(c)];
      await h.elapse(lease());
      expect(others.every((x) => x.leadership() === undefined)).to.equal(true);
      await first.resign();
      await first.resign(); // idempotent
      expect((first.signal.reason as LeaseLostError).reason).to.equal('resigned');
      const took = await eventually(h, 'b or c elected', () => others.some((x) => x.leadership() !== undefined), lease());
      expect(took, 'handover time').to.be.below(lease());
      const next = others.map((x) => x.leadership()).find((l) => l !== undefined) as Leadership;
      expect(next.epoch).to.be.greaterThan(first.epoch);
      for (const x of others) x.abort.abort();
    });

    it('stop() resigns and deregisters: the others take over at once and the member is gone', async function () {
      const [a, b] = await Promise.all(['a', 'b'].map((id) => h.coordinator(id))) as [Coordinator, Coordinator];
      await a.register(member('a'));
      const first = await winner(h, [a], lease());
      const next = campaignOf(b);
      await a.stop(2000);
      await a.stop(2000); // idempotent
      expect((first.signal.reason as LeaseLostError).reason).to.equal('stopped');
      const took = await eventually(h, 'b elected', () => next.leadership() !== undefined, lease());
      expect(took).to.be.below(lease());
      expect((await b.members()).map((m) => m.agentId)).to.deep.equal([]);
    });

    it('lists live members with their info; update() changes it; expiry after the TTL removes a killed member', async function () {
      const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((id) => h.coordinator(id))) as [Coordinator, Coordinator, Coordinator];
      await a.register(member('a', { serverKind: 'torchserve', hardware: 'cpu', models: ['bert', 'resnet'], capacity: 8 }));
      const rb = await b.register(member('b'));
      expect(await c.members()).to.deep.equal([
        member('a', { serverKind: 'torchserve', hardware: 'cpu', models: ['bert', 'resnet'], capacity: 8 }), member('b'),
      ]);
      await rb.update(member('b', { capacity: 2 }));
      await eventually(h, 'the update is visible', async () => (await c.members()).find((m) => m.agentId === 'b')?.capacity === 2, lease());
      // A member outlives several TTLs while its process renews.
      await h.elapse(2 * h.memberTtlMs);
      expect((await c.members()).map((m) => m.agentId)).to.deep.equal(['a', 'b']);
      await h.kill(a);
      expect((await c.members()).map((m) => m.agentId), 'right after the kill').to.deep.equal(['a', 'b']);
      const took = await eventually(h, 'a expired', async () => (await c.members()).length === 1, 3 * h.memberTtlMs);
      expect(took, 'a must stay listed for most of its TTL').to.be.at.least(h.memberTtlMs / 2);
      expect((await c.members()).map((m) => m.agentId)).to.deep.equal(['b']);
      await rb.deregister();
      await rb.deregister();
      await eventually(h, 'b gone at once', async () => (await c.members()).length === 0, lease());
    });

    it('fires watches: members, leader and desired state, each with the current value first', async function () {
      const [a, b] = await Promise.all(['a', 'b'].map((id) => h.coordinator(id))) as [Coordinator, Coordinator];
      const memberEvents: string[][] = [];
      const leaderEvents: LeaderSnapshot[] = [];
      const desiredEvents: (DesiredStateRecord | undefined)[] = [];
      const subs = [
        await b.watchMembers((ms) => memberEvents.push(ms.map((m) => m.agentId))),
        await b.watchLeader((s) => leaderEvents.push(s)),
        await b.watchDesired('a', (r) => desiredEvents.push(r)),
      ];
      await eventually(h, 'initial values', () => memberEvents.length >= 1 && leaderEvents.length >= 1 && desiredEvents.length >= 1, lease());
      expect(memberEvents[0]).to.deep.equal([]);
      expect(desiredEvents[0]).to.equal(undefined);
      expect(leaderEvents[0]?.leaderId).to.equal(undefined);

      const reg = await a.register(member('a'));
      await eventually(h, 'member event', () => memberEvents.at(-1)?.join() === 'a', lease());
      const l = await winner(h, [a], lease());
      await eventually(h, 'leader event', () => leaderEvents.at(-1)?.leaderId === 'a', 2 * lease());
      expect(leaderEvents.at(-1)?.epoch).to.equal(l.epoch);
      await a.writeDesired('a', { models: { m: { replicas: 1 } } }, l.epoch);
      await a.writeDesired('a', { models: { m: { replicas: 2 } } }, l.epoch);
      await eventually(h, 'desired events', () => (desiredEvents.at(-1)?.spec as { models: { m: { replicas: number } } } | undefined)?.models.m.replicas === 2, lease());
      const revisions = desiredEvents.filter((r) => r !== undefined).map((r) => r.revision);
      expect(new Set(revisions).size).to.equal(revisions.length);
      await reg.deregister();
      await eventually(h, 'member removed event', () => memberEvents.at(-1)?.length === 0, lease());
      for (const s of subs) await s.close();
      const count = memberEvents.length;
      await a.register(member('a'));
      await h.elapse(h.timing.retryPeriodMs * 3);
      expect(memberEvents.length, 'no events after close()').to.equal(count);
    });

    it('a campaign stops when its signal aborts, and stop() rejects campaigns still waiting', async function () {
      const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((id) => h.coordinator(id))) as [Coordinator, Coordinator, Coordinator];
      await winner(h, [a], lease());
      const x = campaignOf(b);
      const y = campaignOf(c);
      x.abort.abort(new Error('no longer wanted'));
      await eventually(h, 'b rejects', () => x.failed() !== undefined, lease());
      expect((x.failed() as Error).message).to.equal('no longer wanted');
      await c.stop(2000);
      await eventually(h, 'c rejects', () => y.failed() !== undefined, lease());
      expect(y.leadership()).to.equal(undefined);
    });
  });
}

/** Campaigns with every coordinator of `cs` until one wins; the others keep campaigning no more. */
export async function winner(h: ContractHarness, cs: Coordinator[], leaseMs: number): Promise<Leadership> {
  const campaigns = cs.map(campaignOf);
  await eventually(h, `a leader among ${cs.map((c) => c.identity).join(', ')}`, () => campaigns.some((x) => x.leadership() !== undefined || x.failed() !== undefined), 6 * leaseMs);
  const failed = campaigns.find((x) => x.failed() !== undefined);
  if (failed) throw failed.failed();
  const won = campaigns.map((x) => x.leadership()).find((l) => l !== undefined) as Leadership;
  for (const x of campaigns) if (x.leadership() === undefined) x.abort.abort();
  return won;
}
