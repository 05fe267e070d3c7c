import { expect } from 'chai';
import { countChanged, decidePush, initialPushState } from '../../src/core/observe/push-rule.js';
import type { PushRuleState, ScrapeCount } from '../../src/core/observe/push-rule.js';

describe('core/push-rule', () => {
  describe('countChanged: |n − m| > 3√m + 2', () => {
    const cases: { name: string; given: [number, number]; want: boolean }[] = [
      { name: 'the expected count', given: [10, 10], want: false },
      { name: 'within three deviations and the slack (10 ± 11.49)', given: [21, 10], want: false },
      { name: 'beyond them', given: [22, 10], want: true },
      { name: 'a drop beyond them', given: [0, 16], want: true }, // 16 > 3·4 + 2 = 14
      { name: 'idle, two requests', given: [2, 0], want: false },
      { name: 'idle, three requests', given: [3, 0], want: true },
      { name: 'a ×4 burst over half a 100 ms scrape at 100 q/s', given: [25, 10], want: true },
    ];
    for (const c of cases) it(c.name, () => expect(countChanged(c.given[0], c.given[1])).to.equal(c.want));
  });

  describe('decidePush', () => {
    const opts = { heartbeatMs: 1000 };
    const scrape = (arrivals: number, windowMs = 100, model = 'm'): ScrapeCount[] => [{ model, windowMs, arrivals }];
    /** Runs scrapes 100 ms apart from t = 100 ms; returns the decisions' kinds (and reasons). */
    function run(counts: readonly number[], state: PushRuleState = initialPushState()): { decisions: string[]; state: PushRuleState } {
      const decisions: string[] = [];
      let st = state;
      counts.forEach((n, i) => {
        const out = decidePush((i + 1) * 100, scrape(n), st, opts);
        st = out.state;
        decisions.push(out.decision.kind === 'push' ? out.decision.reason : 'hold');
      });
      return { decisions, state: st };
    }

    it('pushes first, then holds steady traffic until the heartbeat', () => {
      const { decisions } = run([10, 10, 9, 12, 10, 8, 11, 10, 10, 10, 10, 10]);
      // The first push at 100 ms; the heartbeat 1 s later, at 1100 ms (the 11th scrape).
      expect(decisions).to.deep.equal(['first', 'hold', 'hold', 'hold', 'hold', 'hold', 'hold', 'hold', 'hold', 'hold', 'heartbeat', 'hold']);
    });

    it('pushes the scrape a burst shows in, then the rest of it once it adds up', () => {
      // 25 is a step from 10 (> 3√10 + 2); then 40 alone is within 3√25 + 2 = 17 of 25, but 40 + 40
      // held against 50 expected is beyond 3√50 + 2 ≈ 23.2.
      const { decisions, state } = run([10, 10, 10, 25, 40, 40, 41, 38]);
      expect(decisions).to.deep.equal(['first', 'hold', 'hold', 'change', 'hold', 'change', 'hold', 'hold']);
      expect(state.models['m']?.rateQps).to.equal(400);
    });

    it('after a heartbeat, judges against the rate over the whole held span', () => {
      const { decisions, state } = run([10, 9, 11, 10, 10, 12, 8, 10, 10, 10, 11]);
      expect(decisions.filter((d) => d !== 'hold')).to.deep.equal(['first', 'heartbeat']);
      // The held span: ten scrapes, 101 arrivals in 1000 ms (not the last scrape's 11, nor the first push's 10).
      expect(state.models['m']?.rateQps).to.be.closeTo(101, 1e-9);
    });

    it('pushes a counter reset at once', () => {
      const first = decidePush(100, scrape(10), initialPushState(), opts).state;
      const out = decidePush(200, [{ model: 'm', windowMs: 100, arrivals: 10, reset: true }], first, opts);
      expect(out.decision).to.deep.equal({ kind: 'push', reason: 'reset', model: 'm' });
    });

    it('a model seen for the first time pushes; the others keep their rate', () => {
      const s1 = decidePush(100, scrape(10), initialPushState(), opts).state;
      const out = decidePush(200, [...scrape(10), ...scrape(5, 100, 'n')], s1, opts);
      expect(out.decision).to.deep.equal({ kind: 'push', reason: 'first', model: 'n' });
      expect(out.state.models['m']?.rateQps).to.equal(100);
      expect(out.state.models['n']?.rateQps).to.equal(50);
    });

    it('a shift too small for one scrape is pushed once it adds up', () => {
      // 14 per 100 ms against 10: never beyond 3√10 + 2 alone; held, 84 against 60 is not beyond
      // 3√60 + 2 ≈ 25.2, 98 against 70 is beyond 3√70 + 2 ≈ 27.1.
      const { decisions } = run([10, 14, 14, 14, 14, 14, 14, 14]);
      expect(decisions).to.deep.equal(['first', 'hold', 'hold', 'hold', 'hold', 'hold', 'hold', 'change']);
    });

    it('same scrapes, same decisions', () => {
      const counts = [10, 12, 30, 31, 5, 0, 0, 9, 10, 10, 11, 10, 10, 10];
      expect(run(counts)).to.deep.equal(run(counts));
    });
  });
});
