// `inferline demo` (what `npm start` runs), shortened.
import { expect } from 'chai';
import { runCli } from '../helpers/cli.js';
import { demoWorkload } from '../../src/cli/commands/demo.js';
import { parseArrivalSpec, arrivalSpecDurationMs } from '../../src/core/arrival.js';

describe('inferline demo', function () {
  this.timeout(120_000);

  it('builds a calm, burst and step workload of the asked length', () => {
    const spec = parseArrivalSpec(demoWorkload(60));
    expect(spec.segments.map((s) => ('rateQps' in s ? s.rateQps : undefined))).to.deep.equal([100, 400, 200]);
    expect(arrivalSpecDurationMs(spec)).to.equal(60_000);
  });

  it('plans every reference pipeline, and InferLine is never costlier than the coarse baseline', async () => {
    const r = await runCli(['demo', '--duration', '8s', '--json']);
    expect(r.code, r.stderr).to.equal(0);
    const results = JSON.parse(r.stdout) as { greedy: { pipeline: string; feasible: boolean; costPerHour: number }; coarse: { costPerHour: number } }[];
    expect(results.map((x) => x.greedy.pipeline)).to.deep.equal(['image-processing', 'tf-cascade', 'video-monitoring', 'social-media', 'search-ranking']);
    for (const x of results) {
      expect(x.greedy.feasible).to.equal(true);
      expect(x.greedy.costPerHour).to.be.at.most(x.coarse.costPerHour + 1e-9);
    }
  });

  it('prints a summary table in text mode, and rejects a bad duration with exit 2', async () => {
    const ok = await runCli(['demo', '--duration', '4s']);
    expect(ok.code, ok.stderr).to.equal(0);
    expect(ok.stdout).to.match(/summary\n\s+pipeline\s+inferline\s+coarse\s+saving/);
    const bad = await runCli(['demo', '--duration', 'soon']);
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.match(/--duration soon: must be a duration/);
  });
});
