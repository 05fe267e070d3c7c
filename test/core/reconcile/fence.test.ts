import { expect } from 'chai';
import { judgeDesired } from '../../../src/core/reconcile/index.js';
import type { FenceSnapshot, FenceVerdict } from '../../../src/core/reconcile/index.js';

describe('core/reconcile: the desired-state fence', () => {
  const cases: { name: string; given: FenceSnapshot; want: FenceVerdict['kind'] }[] = [
    { name: 'the current leader\'s record is applied', given: { recordEpoch: 7, leaderEpoch: 7, enforcedEpoch: 5 }, want: 'apply' },
    { name: 'a record of an older epoch than the leader\'s is stale (a zombie, a restored backup)', given: { recordEpoch: 3, leaderEpoch: 7, enforcedEpoch: 0 }, want: 'stale' },
    { name: 'just restarted: an old record is stale as soon as the leader epoch is read', given: { recordEpoch: 3, leaderEpoch: 9, enforcedEpoch: 0 }, want: 'stale' },
    { name: 'a record older than the one enforced is stale even when the leader view lags', given: { recordEpoch: 4, leaderEpoch: 4, enforcedEpoch: 6 }, want: 'stale' },
    { name: 'no leader epoch read yet: wait, do not apply', given: { recordEpoch: 3, leaderEpoch: 0, enforcedEpoch: 0 }, want: 'wait' },
    { name: 'ahead of the leader epoch read: confirm first', given: { recordEpoch: 12, leaderEpoch: 7, enforcedEpoch: 7 }, want: 'confirm' },
    { name: 'epoch 0 is never a leader\'s', given: { recordEpoch: 0, leaderEpoch: 0, enforcedEpoch: 0 }, want: 'stale' },
    { name: 'a fractional epoch is not a leader\'s', given: { recordEpoch: 7.5, leaderEpoch: 7, enforcedEpoch: 0 }, want: 'stale' },
    { name: 'after a handover, the previous leadership\'s record is stale until rewritten', given: { recordEpoch: 7, leaderEpoch: 8, enforcedEpoch: 7 }, want: 'stale' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const v = judgeDesired(c.given);
      expect(v.kind).to.equal(c.want);
      if (v.kind !== 'apply') expect(v.reason).to.include(String(c.given.recordEpoch));
    });
  }

  it('never applies a record below the leader epoch (property over a grid)', () => {
    for (let r = 0; r < 12; r++) for (let l = 0; l < 12; l++) for (let e = 0; e < 12; e++) {
      const v = judgeDesired({ recordEpoch: r, leaderEpoch: l, enforcedEpoch: e });
      if (v.kind === 'apply') {
        expect(r).to.be.at.least(l);
        expect(r).to.be.at.least(e);
        expect(r).to.be.at.most(l);
      }
    }
  });
});
