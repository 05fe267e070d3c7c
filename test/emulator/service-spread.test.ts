// The emulator's default service time draws the same spread as the estimator where the profile
// measured one (a P99 above the median), and is exactly L(k) where it did not.
import { expect } from 'chai';
import { profileServiceMs } from '../../src/emulator/engine/index.js';
import { LatencyCurve } from '../../src/core/model/profiles.js';

describe('emulator: service-time spread from the profile', () => {
  it('no P99 in the profile: exactly L(k)', () => {
    const curve = new LatencyCurve({ model: 'm', hardware: 'cpu', points: [{ batchSize: 1, latencyMs: 4, throughputQps: 250 }, { batchSize: 4, latencyMs: 10, throughputQps: 400 }] });
    const draw = profileServiceMs(curve, 'm');
    expect([0, 1, 2].map((seq) => draw(2, seq))).to.deep.equal([6, 6, 6]);
  });

  it('a P99 twice the median: mean L(k), P99/P50 about 2, repeatable', () => {
    const curve = new LatencyCurve({ model: 'm', hardware: 'cpu', points: [{ batchSize: 1, latencyMs: 10, throughputQps: 100, p99LatencyMs: 20 }] });
    const draw = profileServiceMs(curve, 'm');
    const xs = Array.from({ length: 20_000 }, (_, seq) => draw(1, seq));
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const sorted = [...xs].sort((a, b) => a - b);
    expect(mean).to.be.closeTo(10, 0.3);
    expect((sorted[Math.floor(0.99 * xs.length)] as number) / (sorted[xs.length / 2] as number)).to.be.within(1.8, 2.2);
    expect(profileServiceMs(curve, 'm')(1, 7)).to.equal(draw(1, 7));
    expect(profileServiceMs(curve, 'other')(1, 7)).to.not.equal(draw(1, 7));
  });
});
