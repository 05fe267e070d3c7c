import { expect } from 'chai';
import { modelDelta } from '../../src/core/observe/counters.js';
import { sampleOf } from '../../src/core/observe/sample.js';
import type { ModelCounters } from '../../src/ports/server-adapter.js';

// The one delta rule of a model's counters (collector, profiler, inspect, replay): per series
// (version), then summed; each series resets on its own.
const v = (version: string | undefined, requests: bigint, computeNs = requests * 10n): ModelCounters => ({
  model: 'm', ...(version !== undefined ? { version } : {}), requests, failures: 0n, computeNs,
});

describe('core/observe modelDelta', () => {
  const cases: { name: string; before: ModelCounters[]; after: ModelCounters[]; want: { requests: bigint; computeNs: bigint; reset: boolean } }[] = [
    { name: 'one series counting up', before: [v(undefined, 10n)], after: [v(undefined, 15n)], want: { requests: 5n, computeNs: 50n, reset: false } },
    { name: 'two versions counting up', before: [v('1', 10n), v('2', 4n)], after: [v('1', 12n), v('2', 7n)], want: { requests: 5n, computeNs: 50n, reset: false } },
    { name: 'a version appears: it counts from zero', before: [v('1', 10n)], after: [v('1', 12n), v('2', 3n)], want: { requests: 5n, computeNs: 50n, reset: false } },
    { name: 'a version disappears: the others count, no reset', before: [v('1', 10n), v('2', 100n)], after: [v('1', 12n)], want: { requests: 2n, computeNs: 20n, reset: false } },
    {
      name: 'one version resets while another grows past it: the reset is seen, counted from zero',
      before: [v('1', 1000n), v('2', 5n)], after: [v('1', 2000n), v('2', 3n)], want: { requests: 1003n, computeNs: 10030n, reset: true },
    },
    { name: 'every version resets', before: [v('1', 10n), v('2', 10n)], after: [v('1', 1n), v('2', 2n)], want: { requests: 3n, computeNs: 30n, reset: true } },
    { name: 'a version swap (TorchServe): the new one counts from zero', before: [v('1.0', 50n)], after: [v('2.0', 4n)], want: { requests: 4n, computeNs: 40n, reset: false } },
    { name: 'no earlier read: the counters are their own delta', before: [], after: [v('1', 7n), v('2', 1n)], want: { requests: 8n, computeNs: 80n, reset: false } },
    { name: 'other models are ignored', before: [{ ...v('1', 10n), model: 'x' }, v('1', 10n)], after: [{ ...v('1', 99n), model: 'x' }, v('1', 11n)], want: { requests: 1n, computeNs: 10n, reset: false } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const { delta, reset } = modelDelta('m', c.before, c.after);
      expect({ requests: delta.requests, computeNs: delta.computeNs, reset }).to.deep.equal(c.want);
    });
  }

  it('the collector\'s sample takes the same rule (a version reset behind another\'s growth)', () => {
    const reading = (series: ModelCounters[], atMs: number): { series: ModelCounters[]; counters: ModelCounters; atMs: number } => ({
      series, counters: series[0] as ModelCounters, atMs,
    });
    const s = sampleOf('m', reading([v('1', 1000n), v('2', 5n)], 0), reading([v('1', 2000n), v('2', 3n)], 1000));
    expect(s.arrivals).to.equal(1003);
    expect(s.reset).to.equal(true);
    expect(s.rates.requestsPerS).to.equal(1003);
  });
});
