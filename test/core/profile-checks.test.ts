import { expect } from 'chai';
import fc from 'fast-check';
import { checkProfileSense } from '../../src/core/model/profile-checks.js';
import type { ProfileOptions } from '../../src/core/model/profiles.js';
import { MAX_PROFILE_POINTS } from '../../src/core/model/limits.js';

const at = (i: number) => `profiles[${i}]`;
const profile = (points: ProfileOptions['points']): ProfileOptions => ({ model: 'm', hardware: 'cpu', points });

describe('checkProfileSense', () => {
  const cases: { name: string; given: ProfileOptions['points']; errors: RegExp[]; warnings: RegExp[] }[] = [
    { name: 'a sound profile', given: [{ batchSize: 1, latencyMs: 5 }, { batchSize: 8, latencyMs: 20 }], errors: [], warnings: [] },
    { name: 'equal latency is fine', given: [{ batchSize: 1, latencyMs: 5 }, { batchSize: 2, latencyMs: 5 }], errors: [], warnings: [] },
    { name: 'latency falling a little: warned', given: [{ batchSize: 1, latencyMs: 5 }, { batchSize: 8, latencyMs: 4 }], errors: [], warnings: [/points\[1\]\.latencyMs: 4 ms at batch 8 is less than 5 ms at batch 1/] },
    { name: 'latency falling by more than half: refused', given: [{ batchSize: 1, latencyMs: 50 }, { batchSize: 8, latencyMs: 4 }], errors: [/points\[1\]\.latencyMs: .*re-measure m on cpu/], warnings: [] },
    { name: 'points out of order are compared by batch size', given: [{ batchSize: 8, latencyMs: 4 }, { batchSize: 1, latencyMs: 5 }], errors: [], warnings: [/points\[0\]\.latencyMs: 4 ms at batch 8 is less than 5 ms at batch 1 \(profiles\[0\]\.points\[1\]\)/] },
    { name: 'no batch 1: warned', given: [{ batchSize: 4, latencyMs: 5 }], errors: [], warnings: [/points: no point at batch 1: smaller batches are planned at 5 ms/] },
    { name: 'throughput a little above batch/latency: warned', given: [{ batchSize: 1, latencyMs: 10, throughputQps: 150 }], errors: [], warnings: [/throughputQps: 150 is 1\.5× what its latency allows/] },
    { name: 'throughput within 10 % of batch/latency', given: [{ batchSize: 1, latencyMs: 10, throughputQps: 105 }], errors: [], warnings: [] },
    { name: 'impossible throughput: refused', given: [{ batchSize: 1, latencyMs: 10, throughputQps: 1e6 }], errors: [/throughputQps: 1000000 — impossible at its latency: .* serves 100 qps/], warnings: [] },
    { name: 'latency over an hour: refused', given: [{ batchSize: 1, latencyMs: 1e300 }], errors: [/latencyMs: 1e\+300 — must be at most 3600000/], warnings: [] },
    { name: 'batch size over the limit: refused', given: [{ batchSize: 1, latencyMs: 1 }, { batchSize: 1e6, latencyMs: 2 }], errors: [/points\[1\]\.batchSize: 1000000 — must be at most 65536/], warnings: [] },
  ];
  for (const { name, given, errors, warnings } of cases) {
    it(name, () => {
      const r = checkProfileSense([profile(given)], at);
      expect(r.errors.map((p) => `${p.path}: ${p.message}`)).to.have.length(errors.length);
      errors.forEach((re, i) => expect(`${r.errors[i]?.path}: ${r.errors[i]?.message}`).to.match(re));
      expect(r.warnings.map((p) => `${p.path}: ${p.message}`)).to.have.length(warnings.length);
      warnings.forEach((re, i) => expect(`${r.warnings[i]?.path}: ${r.warnings[i]?.message}`).to.match(re));
    });
  }

  it('refuses more points than the limit without looking at each', () => {
    const points = Array.from({ length: MAX_PROFILE_POINTS + 1 }, (_, i) => ({ batchSize: i + 1, latencyMs: i + 1 }));
    const r = checkProfileSense([profile(points)], at);
    expect(r.errors).to.deep.equal([{ path: 'profiles[0].points', message: `${MAX_PROFILE_POINTS + 1} points — must have at most ${MAX_PROFILE_POINTS} (one per measured batch size)` }]);
  });

  it('never errs on a profile whose latency grows with the batch and has no throughput (property)', () => {
    const sizes = fc.uniqueArray(fc.integer({ min: 1, max: 4096 }), { minLength: 1, maxLength: 20 });
    fc.assert(fc.property(sizes, fc.double({ min: 0.01, max: 1000, noNaN: true }), (bs, base) => {
      const sorted = [...bs].sort((a, b) => a - b);
      const points = sorted.map((b) => ({ batchSize: b, latencyMs: base * (1 + b / 10) }));
      const r = checkProfileSense([profile([...points].reverse())], at);
      expect(r.errors).to.deep.equal([]);
      expect(r.warnings.length).to.equal(sorted[0] === 1 ? 0 : 1);
    }));
  });
});
