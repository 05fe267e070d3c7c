import { expect } from 'chai';
import { counterRates, sumCounters } from '../../src/core/observe/counter-rates.js';
import type { CounterRates } from '../../src/core/observe/counter-rates.js';
import type { ModelCounters } from '../../src/ports/server-adapter.js';

describe('core/counter-rates', () => {
  const cases: { name: string; given: { delta: ModelCounters; windowMs: number }; want: CounterRates }[] = [
    {
      name: 'every counter (Triton): per second, means per request and per execution',
      given: { delta: { model: 'm', requests: 20n, failures: 2n, inferences: 60n, executions: 15n, queueNs: 40_000_000n, computeNs: 100_000_000n }, windowMs: 2000 },
      want: { windowMs: 2000, requestsPerS: 10, failuresPerS: 1, inferencesPerS: 30, executionsPerS: 7.5, meanQueueMs: 2, meanComputeMs: 5, meanBatchSize: 4 },
    },
    {
      name: 'no inference or execution counts (TorchServe): null, not zero',
      given: { delta: { model: 'm', requests: 5n, failures: 0n, queueNs: 5_000_000n, computeNs: 50_000_000n }, windowMs: 500 },
      want: { windowMs: 500, requestsPerS: 10, failuresPerS: 0, inferencesPerS: null, executionsPerS: null, meanQueueMs: 1, meanComputeMs: 10, meanBatchSize: null },
    },
    {
      name: 'no request in the window: rates of zero, no means',
      given: { delta: { model: 'm', requests: 0n, failures: 0n, inferences: 0n, executions: 0n, queueNs: 0n, computeNs: 0n }, windowMs: 1000 },
      want: { windowMs: 1000, requestsPerS: 0, failuresPerS: 0, inferencesPerS: 0, executionsPerS: 0, meanQueueMs: null, meanComputeMs: null, meanBatchSize: null },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(counterRates(c.given.delta, c.given.windowMs)).to.deep.equal(c.want);
    });
  }

  it('refuses an empty window', () => {
    expect(() => counterRates({ model: 'm', requests: 1n, failures: 0n }, 0)).to.throw(RangeError);
  });

  it('sums the series of one model; a field no series has stays absent', () => {
    const parts: ModelCounters[] = [
      { model: 'm', version: '1', requests: 3n, failures: 1n, inferences: 6n, queueNs: 2n ** 60n },
      { model: 'm', version: '2', requests: 4n, failures: 0n, queueNs: 1n },
    ];
    expect(sumCounters('m', parts)).to.deep.equal({ model: 'm', requests: 7n, failures: 1n, inferences: 6n, queueNs: 2n ** 60n + 1n });
  });
});
