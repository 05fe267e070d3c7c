// The elector loop over a lock that the test controls: a hanging lock ends a leadership at the renew
// deadline even mid-call, and onAcquired (the Kubernetes fence) runs before campaign() resolves.
import { expect } from 'chai';
import type { LeaseRecord, LockSnapshot } from '../../src/core/fleet/election.js';
import { LeaseElector } from '../../src/coordination/lease-elector.js';
import { LockConflictError, type LeaseLock } from '../../src/coordination/lease-lock.js';
import { LeaseLostError, type Leadership } from '../../src/ports/coordinator.js';
import { FakeClock } from '../helpers/fake-clock.js';

const TIMING = { leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 500 };

class ControlledLock implements LeaseLock {
  readonly description = 'test lock';
  snapshot: LockSnapshot | undefined;
  /** While set, every call waits for it. */
  gate: Promise<void> | undefined;
  private version = 0;
  async get(): Promise<LockSnapshot | undefined> {
    await this.gate;
    return this.snapshot;
  }
  async create(record: LeaseRecord): Promise<LockSnapshot> {
    await this.gate;
    if (this.snapshot) throw new LockConflictError('exists');
    this.snapshot = { record, version: String(++this.version) };
    return this.snapshot;
  }
  async update(record: LeaseRecord, version: string): Promise<LockSnapshot> {
    await this.gate;
    if (this.snapshot?.version !== version) throw new LockConflictError('changed');
    this.snapshot = { record, version: String(++this.version) };
    return this.snapshot;
  }
}

describe('lease elector', function () {
  let clock: FakeClock;
  let lock: ControlledLock;
  const errors: unknown[] = [];
  beforeEach(function () {
    clock = new FakeClock(0);
    lock = new ControlledLock();
    errors.length = 0;
  });

  async function elect(elector: LeaseElector): Promise<Leadership> {
    let won: Leadership | undefined;
    void elector.campaign().then((l) => { won = l; });
    for (let i = 0; i < 100 && won === undefined; i++) await clock.advance(50);
    if (won === undefined) throw new Error('not elected');
    return won;
  }

  it('ends the leadership at the renew deadline while a lock call hangs, before the lease could expire for others', async function () {
    const e = new LeaseElector({ backend: 'memory', identity: 'a', lock, timing: TIMING, clock, onError: (err) => errors.push(err) });
    e.start();
    const l = await elect(e);
    const renewedAt = clock.nowMs();
    let release!: () => void;
    lock.gate = new Promise<void>((r) => { release = r; });
    let lostAt: number | undefined;
    l.signal.addEventListener('abort', () => { lostAt = clock.nowMs(); });
    await clock.advance(TIMING.leaseDurationMs);
    expect(l.signal.reason).to.be.instanceOf(LeaseLostError);
    expect((l.signal.reason as LeaseLostError).reason).to.equal('renew-deadline');
    expect(lostAt! - renewedAt).to.be.at.most(TIMING.renewDeadlineMs);
    expect(lostAt! - renewedAt).to.be.above(TIMING.renewDeadlineMs - TIMING.retryPeriodMs);
    release();
    lock.gate = undefined;
    await clock.advance(100);
    const stopping = e.stop(1000);
    await clock.advance(1000);
    await stopping;
  });

  it('runs onAcquired before campaign() resolves, retrying it while it fails', async function () {
    const calls: number[] = [];
    const e = new LeaseElector({
      backend: 'kubernetes', identity: 'a', lock, timing: TIMING, clock, onError: (err) => errors.push(err),
      onAcquired: async (epoch) => {
        calls.push(epoch);
        if (calls.length < 3) throw new Error('API server busy');
      },
    });
    e.start();
    const l = await elect(e);
    expect(calls).to.deep.equal([1, 1, 1]);
    expect(l.epoch).to.equal(1);
    expect(errors.map((err) => (err as Error).message)).to.deep.equal([
      'kubernetes: epoch 1: cannot fence the desired state: API server busy',
      'kubernetes: epoch 1: cannot fence the desired state: API server busy',
    ]);
    const stopping = e.stop(1000);
    await clock.advance(1000);
    await stopping;
    expect((l.signal.reason as LeaseLostError).reason).to.equal('stopped');
    expect(lock.snapshot?.record.holderIdentity, 'released on stop').to.equal('');
  });
});
