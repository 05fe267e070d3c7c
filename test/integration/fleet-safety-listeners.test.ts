// No listener leak across etcd reconnects (issue #15: a MaxListenersExceededWarning during an etcd
// outage). Two agents with emulated Tritons run in this process, each on its own EtcdCoordinator
// against a REAL etcd (leader, members, desired-state and policy watches, the leader's loops); etcd
// is stopped and started again several times, long enough each time for every watch, lease and
// retry loop to fail and reconnect. Every event listener added in this process is tracked: after
// each outage, once the fleet is whole again, the most listeners any one emitter (EventEmitter or
// EventTarget, an AbortSignal included) has for one event must not have grown since the first
// outage, and no MaxListenersExceededWarning may have been emitted. A leak of one listener per
// reconnect fails the first check; one that reaches Node's limit (10) fails both.
import { expect } from 'chai';
import { EventEmitter, getEventListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { InferlineConfig } from '../../src/config/index.js';
import { EtcdCoordinator } from '../../src/coordination/etcd.js';
import { etcdOrSkip } from './etcd/etcd-process.js';
import { startEtcd, type EtcdHandle } from './etcd/etcd-process.js';
import { startFleet, until } from '../runtime/agent/fleet-fixture.js';

/** Every emitter a listener was ever added to (weakly), with the event names added. */
class ListenerCensus {
  private readonly seen: { ref: WeakRef<object>; names: Set<string | symbol> }[] = [];
  private readonly index = new WeakMap<object, Set<string | symbol>>();
  private readonly restore: (() => void)[] = [];

  install(): void {
    const note = (target: object, name: string | symbol): void => {
      let names = this.index.get(target);
      if (names === undefined) {
        names = new Set();
        this.index.set(target, names);
        this.seen.push({ ref: new WeakRef(target), names });
      }
      names.add(name);
    };
    const ee = EventEmitter.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
    for (const method of ['on', 'addListener', 'prependListener', 'once', 'prependOnceListener']) {
      const original = ee[method] as (...a: unknown[]) => unknown;
      ee[method] = function (this: object, ...args: unknown[]) {
        note(this, args[0] as string | symbol);
        return original.apply(this, args);
      };
      this.restore.push(() => { ee[method] = original; });
    }
    const et = EventTarget.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
    const add = et['addEventListener'] as (...a: unknown[]) => unknown;
    et['addEventListener'] = function (this: object, ...args: unknown[]) {
      note(this, args[0] as string);
      return add.apply(this, args);
    };
    this.restore.push(() => { et['addEventListener'] = add; });
  }

  uninstall(): void {
    for (const r of this.restore.splice(0)) r();
  }

  /** The most listeners one live emitter has for one event now, and where. */
  max(): { count: number; what: string } {
    let best = { count: 0, what: 'none' };
    for (const { ref, names } of this.seen) {
      const target = ref.deref();
      if (target === undefined) continue;
      for (const name of names) {
        const count = target instanceof EventEmitter ? target.listenerCount(name)
          : target instanceof EventTarget && typeof name === 'string' ? getEventListeners(target, name).length : 0;
        if (count > best.count) best = { count, what: `${target.constructor.name} "${String(name)}"` };
      }
    }
    return best;
  }
}

describe('fleet safety: no listener leak across etcd reconnects (real etcd)', function () {
  this.timeout(240_000);
  let etcd: EtcdHandle | undefined;
  const census = new ListenerCensus();
  const warnings: Error[] = [];
  const onWarning = (w: Error): void => { warnings.push(w); };

  before(async function () {
    etcd = await startEtcd(etcdOrSkip(this));
  });
  after(async () => {
    census.uninstall();
    process.off('warning', onWarning);
    await etcd?.dispose();
  });

  it('listeners per emitter do not grow over repeated etcd outages, and no MaxListenersExceededWarning', async () => {
    process.on('warning', onWarning);
    census.install();
    const server = etcd as EtcdHandle;
    const prefix = `/inferline-listeners-${process.pid}-${Date.now()}/`;
    const coordinatorOf = async (agentId: string, config: InferlineConfig) => EtcdCoordinator.create({
      identity: agentId, endpoints: [server.endpoint], prefix, timing: config.coordination.timing, memberTtlMs: 3000, requestTimeoutMs: 1000,
    });
    const fleet = await startFleet([
      { id: 'a-pre', model: 'preprocess', hardware: 'cpu' },
      { id: 'b-cls', model: 'classify', hardware: 'gpu' },
    ], { coordinatorOf });
    try {
      const whole = async (what: string) => until(what, () => {
        const s = fleet.members.map((m) => m.agent.status() as { leader: { leaderId?: string; self: boolean }; desired?: { epoch: number } });
        const leaders = s.filter((x) => x.leader.self);
        return leaders.length === 1 && s.every((x) => x.leader.leaderId === leaders[0]?.leader.leaderId && x.desired !== undefined);
      }, 60_000);
      await whole('a fleet with one leader');
      const after: { count: number; what: string }[] = [];
      const during: { count: number; what: string }[] = [];
      for (let outage = 1; outage <= 4; outage++) {
        await server.stop();
        // Every loop is failing and retrying now: the census at the peak, each second.
        let peak = { count: 0, what: 'none' };
        for (let s = 0; s < 7; s++) {
          await sleep(1000);
          const now = census.max();
          if (now.count > peak.count) peak = now;
        }
        during.push(peak);
        await server.start();
        await whole(`the fleet whole after outage ${outage}`);
        await sleep(3000); // retries and resyncs settle
        after.push(census.max());
        console.log(`      outage ${outage}: at most ${peak.count} listeners on one emitter during it (${peak.what}), ${after.at(-1)?.count} after (${after.at(-1)?.what})`);
      }
      const leaks = warnings.filter((w) => w.name === 'MaxListenersExceededWarning');
      expect(leaks.map((w) => w.message)).to.deep.equal([]);
      for (const d of during) expect(d.count, `listeners during an outage (${d.what})`).to.be.below(10);
      expect(during.at(-1)?.count, `listeners during the last outage (${during.at(-1)?.what}) against the first (${during[0]?.what})`).to.be.at.most(during[0]?.count as number);
      expect(after.at(-1)?.count, `listeners after the last outage (${after.at(-1)?.what}) against the first (${after[0]?.what})`).to.be.at.most(after[0]?.count as number);
    } finally {
      await fleet.stop();
    }
  });
});
