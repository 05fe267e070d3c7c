import { expect } from 'chai';
import {
  decideElection, electionTimingProblems, epochOf, INITIAL_ELECTION_STATE, isHeld, leaderOf, releaseAction, settleElection,
  type ElectionState, type ElectionStep, type ElectionTiming, type LeaseRecord, type LockSnapshot, type WriteAction,
} from '../../src/core/fleet/election.js';
import { FakeClock } from '../helpers/fake-clock.js';

const T: ElectionTiming = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

describe('election timing: client-go\'s rule leaseDuration > renewDeadline > 1.2 × retryPeriod', function () {
  const cases: { name: string; given: ElectionTiming; want: string[] }[] = [
    { name: "client-go's defaults", given: T, want: [] },
    { name: 'just inside both bounds', given: { leaseDurationMs: 1001, renewDeadlineMs: 1000, retryPeriodMs: 833 }, want: [] },
    { name: 'lease equal to the renew deadline', given: { leaseDurationMs: 10_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 }, want: ['leaseDuration'] },
    { name: 'renew deadline equal to 1.2 × retry', given: { leaseDurationMs: 15_000, renewDeadlineMs: 2_400, retryPeriodMs: 2_000 }, want: ['renewDeadline'] },
    { name: 'both broken', given: { leaseDurationMs: 1_000, renewDeadlineMs: 2_000, retryPeriodMs: 2_000 }, want: ['leaseDuration', 'renewDeadline'] },
    { name: 'zero and negative', given: { leaseDurationMs: 0, renewDeadlineMs: -1, retryPeriodMs: 1 }, want: ['leaseDuration', 'renewDeadline'] },
    { name: 'not a number', given: { leaseDurationMs: Number.NaN, renewDeadlineMs: 1, retryPeriodMs: 1 }, want: ['leaseDuration'] },
  ];
  for (const { name, given, want } of cases) {
    it(name, function () {
      const problems = electionTimingProblems(given, 'coordination');
      expect(problems.map((p) => p.path)).to.deep.equal(want.map((k) => `coordination.${k}`));
    });
  }
  it('says what is wrong', function () {
    expect(electionTimingProblems({ leaseDurationMs: 15_000, renewDeadlineMs: 2_000, retryPeriodMs: 2_000 })[0]?.message)
      .to.equal('2000ms — must be greater than 1.2 × retryPeriod (2400ms)');
  });
});

/** An in-test lock: compare-and-swap on a counter, like the memory hub and a Lease's resourceVersion. */
class Lock {
  snapshot: LockSnapshot | undefined;
  private version = 0;
  write(record: LeaseRecord, version?: string): LockSnapshot | undefined {
    if (version !== this.snapshot?.version) return undefined;
    this.snapshot = { record, version: String(++this.version) };
    return this.snapshot;
  }
}

/** One candidate: runs decide → write → settle against the lock at the clock's time. */
class Candidate {
  state: ElectionState = INITIAL_ELECTION_STATE;
  readonly identity: string;
  readonly events: string[] = [];
  constructor(identity: string, private readonly lock: Lock, private readonly clock: FakeClock, private readonly timing = T) {
    this.identity = identity;
  }

  tick(campaigning = true): ElectionStep {
    const now = this.clock.nowMs();
    const step = decideElection({ nowMs: now, identity: this.identity, timing: this.timing, current: this.lock.snapshot, campaigning }, this.state);
    this.state = step.state;
    if (step.lost) this.events.push(`lost:${step.lost}`);
    if (step.action.kind !== 'hold') {
      const a = step.action as WriteAction;
      const written = this.lock.write(a.record, a.kind === 'update' ? a.version : undefined);
      const settled = settleElection(this.state, a, written ? { ok: true, written } : { ok: false }, now, this.clock.nowMs(), this.timing);
      this.state = settled.state;
      if (settled.acquired !== undefined) this.events.push(`acquired:${settled.acquired}`);
      if (settled.lost) this.events.push(`lost:${settled.lost}`);
    }
    return step;
  }
}

describe('election state machine (client-go\'s acquire/renew rule)', function () {
  let clock: FakeClock;
  let lock: Lock;
  beforeEach(function () {
    clock = new FakeClock(1_000_000);
    lock = new Lock();
  });

  it('creates the lease when there is none: transitions 0, epoch 1', function () {
    const a = new Candidate('a', lock, clock);
    const step = a.tick();
    expect(step.action.kind).to.equal('create');
    expect(a.events).to.deep.equal(['acquired:1']);
    expect(lock.snapshot?.record).to.deep.equal({ holderIdentity: 'a', leaseDurationMs: 15_000, acquireTimeMs: 1_000_000, renewTimeMs: 1_000_000, leaseTransitions: 0 });
  });

  it('renews its own lease every retry period without a new epoch, keeping acquireTime', async function () {
    const a = new Candidate('a', lock, clock);
    a.tick();
    for (let i = 0; i < 5; i++) {
      await clock.advance(T.retryPeriodMs);
      const step = a.tick();
      expect(step.action).to.include({ kind: 'update', renewal: true });
    }
    expect(a.events).to.deep.equal(['acquired:1']);
    expect(lock.snapshot?.record).to.include({ acquireTimeMs: 1_000_000, renewTimeMs: 1_010_000, leaseTransitions: 0 });
  });

  it('holds while another candidate renews, however long', async function () {
    const [a, b] = [new Candidate('a', lock, clock), new Candidate('b', lock, clock)];
    a.tick();
    for (let i = 0; i < 30; i++) {
      await clock.advance(T.retryPeriodMs);
      a.tick();
      expect(b.tick().action).to.deep.equal({ kind: 'hold', reason: 'held-by-other' });
    }
    expect(b.events).to.deep.equal([]);
  });

  it('takes over a lease that stayed unchanged for its duration, with transitions + 1', async function () {
    const [a, b] = [new Candidate('a', lock, clock), new Candidate('b', lock, clock)];
    a.tick();
    b.tick(); // observes a's record now
    await clock.advance(T.leaseDurationMs - 1);
    expect(b.tick().action.kind).to.equal('hold');
    await clock.advance(1);
    expect(b.tick().action).to.include({ kind: 'update', renewal: false });
    expect(b.events).to.deep.equal(['acquired:2']);
    expect(lock.snapshot?.record).to.include({ holderIdentity: 'b', leaseTransitions: 1, acquireTimeMs: 1_015_000 });
  });

  const skews: { name: string; renewTimeMs: number }[] = [
    { name: "a holder clock far in the past (its renewTime 'expired' long ago)", renewTimeMs: 0 },
    { name: 'a holder clock far in the future', renewTimeMs: 9e12 },
  ];
  for (const { name, renewTimeMs } of skews) {
    it(`judges expiry on local observation, not the holder's timestamps: ${name}`, async function () {
      lock.write({ holderIdentity: 'z', leaseDurationMs: 15_000, acquireTimeMs: renewTimeMs, renewTimeMs, leaseTransitions: 3 });
      const b = new Candidate('b', lock, clock);
      expect(b.tick().action.kind, 'first seen now: held for a full duration').to.equal('hold');
      await clock.advance(14_999);
      expect(b.tick().action.kind).to.equal('hold');
      await clock.advance(1);
      b.tick();
      expect(b.events).to.deep.equal(['acquired:5']);
    });
  }

  it('restarts the wait whenever the observed record changes', async function () {
    const [a, b] = [new Candidate('a', lock, clock), new Candidate('b', lock, clock)];
    a.tick();
    b.tick();
    await clock.advance(8_000);
    a.tick(); // a renews: b sees a change
    b.tick();
    await clock.advance(8_000);
    expect(b.tick().action.kind, '16 s after the first sight, 8 s after the change').to.equal('hold');
    expect(isHeld(b.state, clock.nowMs())).to.equal(true);
    await clock.advance(7_000);
    expect(isHeld(b.state, clock.nowMs())).to.equal(false);
  });

  it('acquires a released lease at once, with a new epoch', function () {
    const [a, b] = [new Candidate('a', lock, clock), new Candidate('b', lock, clock)];
    a.tick();
    b.tick();
    const release = releaseAction(a.state.observed, 'a', clock.nowMs());
    expect(release?.record).to.include({ holderIdentity: '', leaseDurationMs: 1000, leaseTransitions: 0 });
    lock.write(release!.record, release!.version);
    b.tick();
    expect(b.events).to.deep.equal(['acquired:2']);
    expect(releaseAction(b.state.observed, 'a', clock.nowMs()), 'a cannot release what b holds').to.equal(undefined);
  });

  it('a leader that sees another holder has lost ("taken"), and does not fight back', async function () {
    const [a, b] = [new Candidate('a', lock, clock), new Candidate('b', lock, clock)];
    a.tick();
    await clock.advance(T.retryPeriodMs);
    // b writes over a's record (an operator, or b with a lock that lied): a must step down.
    lock.write({ holderIdentity: 'b', leaseDurationMs: 15_000, acquireTimeMs: 0, renewTimeMs: 0, leaseTransitions: 1 }, lock.snapshot?.version);
    const step = a.tick();
    expect(step.lost).to.equal('taken');
    expect(step.action.kind).to.equal('hold');
    expect(a.state.leading).to.equal(false);
    void b;
  });

  it('a leader whose lease vanished has lost ("deleted"), and recreates it only as a new term', function () {
    const a = new Candidate('a', lock, clock);
    a.tick();
    lock.snapshot = undefined;
    const step = a.tick();
    expect(step.lost).to.equal('deleted');
    expect(a.events).to.deep.equal(['acquired:1', 'lost:deleted', 'acquired:1']);
  });

  it('a leader that cannot renew stops at the renew deadline, before others may take over', async function () {
    const [a, b] = [new Candidate('a', lock, clock), new Candidate('b', lock, clock)];
    a.tick();
    b.tick();
    let lostAt: number | undefined;
    for (let t = 0; t < 20_000; t += T.retryPeriodMs) {
      await clock.advance(T.retryPeriodMs);
      // a's writes fail from now on (the lock is unreachable for a): settle with a failure.
      const settled = settleElection(a.state, { kind: 'update', renewal: true, version: '1', record: lock.snapshot!.record }, { ok: false }, clock.nowMs(), clock.nowMs(), T);
      a.state = settled.state;
      if (settled.lost && lostAt === undefined) lostAt = clock.nowMs();
      b.tick();
      if (b.state.leading) break;
    }
    expect(lostAt! - 1_000_000).to.equal(T.renewDeadlineMs);
    const takenAt = b.events.length > 0 ? clock.nowMs() : undefined;
    expect(takenAt! - 1_000_000).to.be.at.least(T.leaseDurationMs);
  });

  it('a renewal that lands after the deadline ended the term does not revive it', function () {
    const a = new Candidate('a', lock, clock);
    a.tick();
    const lostState: ElectionState = { ...a.state, leading: false };
    const action: WriteAction = { kind: 'update', renewal: true, version: lock.snapshot!.version, record: lock.snapshot!.record };
    const written = lock.write(action.record, action.version)!;
    const settled = settleElection(lostState, action, { ok: true, written }, clock.nowMs(), clock.nowMs(), T);
    expect(settled.state.leading).to.equal(false);
    expect(settled.acquired).to.equal(undefined);
  });

  it('a restarted process with the same identity waits the lease out and gets a new epoch', async function () {
    const a1 = new Candidate('a', lock, clock);
    a1.tick();
    const a2 = new Candidate('a', lock, clock); // same id, fresh memory
    expect(a2.tick().action.kind).to.equal('hold');
    await clock.advance(T.leaseDurationMs);
    a2.tick();
    expect(a2.events).to.deep.equal(['acquired:2']);
  });

  it('an observer tracks the leader and sees it go once the lease runs out', async function () {
    const a = new Candidate('a', lock, clock);
    const o = new Candidate('o', lock, clock);
    expect(leaderOf(o.state, clock.nowMs())).to.deep.equal({ leaderId: undefined, epoch: 0 });
    a.tick();
    expect(o.tick(false).action).to.deep.equal({ kind: 'hold', reason: 'not-campaigning' });
    expect(leaderOf(o.state, clock.nowMs())).to.deep.equal({ leaderId: 'a', epoch: 1 });
    await clock.advance(T.leaseDurationMs);
    o.tick(false);
    expect(leaderOf(o.state, clock.nowMs())).to.deep.equal({ leaderId: undefined, epoch: 1 });
  });

  it('two candidates racing for a free lease: the compare-and-swap lets exactly one win', function () {
    const [a, b] = [new Candidate('a', lock, clock), new Candidate('b', lock, clock)];
    const da = decideElection({ nowMs: clock.nowMs(), identity: 'a', timing: T, current: lock.snapshot, campaigning: true }, a.state);
    const db = decideElection({ nowMs: clock.nowMs(), identity: 'b', timing: T, current: lock.snapshot, campaigning: true }, b.state);
    const wa = lock.write((da.action as WriteAction).record);
    const wb = lock.write((db.action as WriteAction).record);
    expect([wa !== undefined, wb !== undefined]).to.deep.equal([true, false]);
    expect(epochOf(wa!.record)).to.equal(1);
  });
});
