import { expect } from 'chai';
import { counterDelta } from '../../src/core/observe/counters.js';
import type { ModelCounters } from '../../src/ports/server-adapter.js';

const base: ModelCounters = {
  model: 'm', requests: 10n, failures: 1n, inferences: 40n, executions: 8n, queueNs: 1000n, computeNs: 5000n,
  batchSizes: [{ batchSize: 1, executions: 4n, computeNs: 1000n }, { batchSize: 8, executions: 4n, computeNs: 4000n }],
};

describe('core/counters', () => {
  it('the first sample is its own delta', () => {
    expect(counterDelta(undefined, base)).to.deep.equal({ reset: false, delta: base });
  });

  it('subtracts every counter, per batch size too, exactly past 2^53', () => {
    const big = 2n ** 60n;
    const prev = { ...base, computeNs: big };
    const next: ModelCounters = { ...base, requests: 15n, computeNs: big + 7n, batchSizes: [{ batchSize: 1, executions: 6n, computeNs: 1500n }, { batchSize: 8, executions: 4n, computeNs: 4000n }] };
    const { reset, delta } = counterDelta(prev, next);
    expect(reset).to.equal(false);
    expect(delta.requests).to.equal(5n);
    expect(delta.computeNs).to.equal(7n);
    expect(delta.batchSizes).to.deep.equal([{ batchSize: 1, executions: 2n, computeNs: 500n }, { batchSize: 8, executions: 0n, computeNs: 0n }]);
  });

  const resets: { name: string; next: ModelCounters }[] = [
    { name: 'requests went down (a restart)', next: { ...base, requests: 2n } },
    { name: 'queue time went down', next: { ...base, queueNs: 10n } },
    { name: 'one batch size went down (stats reset on reload)', next: { ...base, batchSizes: [{ batchSize: 1, executions: 1n, computeNs: 10n }, { batchSize: 8, executions: 4n, computeNs: 4000n }] } },
    { name: 'a batch size disappeared', next: { ...base, batchSizes: [{ batchSize: 1, executions: 4n, computeNs: 1000n }] } },
  ];
  for (const c of resets) {
    it(`detects a reset when ${c.name}: the new values count from zero`, () => {
      const r = counterDelta(base, c.next);
      expect(r.reset).to.equal(true);
      expect(r.delta).to.deep.equal(c.next);
    });
  }
});
