// The real deadline timer: never early, never synchronous, cancellable; and the engine's own
// measured compute time on it. A loaded host can make any callback late (the bench prints by how
// much), so lateness is bounded only loosely here, on the median.
import { expect } from 'chai';
import { performance } from 'node:perf_hooks';
import { preciseTimer } from '../../src/emulator/engine/deadline-timer.js';
import { ModelEngine } from '../../src/emulator/engine/index.js';
import { LatencyCurve } from '../../src/core/model/profiles.js';
import { profile, sleep } from './helpers.js';

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

describe('emulator deadline timer', function () {
  this.timeout(10_000);
  this.retries(2);

  it('fires at or after its deadline, fractional ones included, and never inside at()', async () => {
    await new Promise<void>((resolve) => preciseTimer.at(performance.now() + 1.5, resolve)); // warm-up
    const lateness: number[] = [];
    await Promise.all([0, 0.3, 0.7, 1.2, 2.3, 3.05, 5.5, 8.6].map((offset) => new Promise<void>((resolve) => {
      const deadline = performance.now() + offset;
      let returned = false;
      preciseTimer.at(deadline, () => {
        expect(returned, 'called back inside at()').to.equal(true);
        lateness.push(performance.now() - deadline);
        resolve();
      });
      returned = true;
    })));
    expect(Math.min(...lateness)).to.be.at.least(0);
    expect(median(lateness), lateness.map((x) => x.toFixed(3)).join(' ')).to.be.below(1);
  });

  it('a cancelled deadline never fires', async () => {
    let fired = 0;
    const cancels = [0, 0.5, 3].map((offset) => preciseTimer.at(performance.now() + offset, () => { fired++; }));
    for (const cancel of cancels) cancel();
    await sleep(10);
    expect(fired).to.equal(0);
  });

  it('the engine measures each batch at L(k) or just past it, never short of it', async () => {
    const curve = new LatencyCurve(profile('m', 'cpu', [[1, 0.7], [4, 2.3]]));
    const overruns = async (k: number): Promise<number[]> => {
      const out: number[] = [];
      const e = new ModelEngine({ name: 'm', curve, replicas: 1, maxBatch: k, maxQueueDelayMs: 0, onBatch: (b) => out.push(Number(b.computeNs) / 1e6 - curve.latencyMs(k)) });
      try {
        await Promise.all(Array.from({ length: 20 }, () => e.submit(k)));
      } finally {
        e.stop();
      }
      expect(out).to.have.length(20);
      return out;
    };
    const big = await overruns(4);
    const small = await overruns(1);
    expect(Math.min(...big, ...small), 'a batch ended before L(k)').to.be.at.least(0);
    expect(median(big), `overruns at L=2.3: ${big.map((x) => x.toFixed(3)).join(' ')}`).to.be.below(0.5);
    expect(median(small), `overruns at L=0.7: ${small.map((x) => x.toFixed(3)).join(' ')}`).to.be.below(0.5);
  });
});
