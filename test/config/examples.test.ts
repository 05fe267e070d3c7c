// The example configs and the reference data shapes load as they are.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { loadConfig, parseConfig } from '../../src/config/index.js';

const EXAMPLES = 'config/examples';

describe('config examples', () => {
  it('reference.yaml loads: the paper pipelines, a profile file, planner settings', async () => {
    const config = await loadConfig(`${EXAMPLES}/reference.yaml`, {});
    expect(config.pipelines.map((p) => p.name)).to.deep.equal(['image-processing', 'tf-cascade', 'video-monitoring', 'social-media', 'search-ranking']);
    expect(config.hardware.map((h) => h.name)).to.deep.equal(['cpu', 'gpu-k80', 'gpu-t4', 'gpu-v100']);
    expect(config.planner.arrival).to.equal('gamma:rate=150,cv=4,duration=60s');
    expect(config.pipelines[3]?.roots).to.deep.equal(['lang', 'image']);
    expect(config.profiles.length).to.be.greaterThan(20);
  });

  it('minimal.yaml loads, with inline profiles and durations', async () => {
    const config = await loadConfig(`${EXAMPLES}/minimal.yaml`, {});
    expect(config.pipelines).to.have.length(1);
    expect(config.pipelines[0]?.slo.latencyMs).to.equal(250);
    expect(config.pipelines[0]?.stages[0]?.next[0]?.delayMs).to.equal(1);
  });

  it('takes env overrides when loading a file', async () => {
    const config = await loadConfig(`${EXAMPLES}/minimal.yaml`, { INFERLINE_PLANNER__SEED: '42' });
    expect(config.planner.seed).to.equal(42);
  });

  it('loads both profile files, including measured throughput (profiles-paper.yaml)', () => {
    const hardware = readFileSync(`${EXAMPLES}/reference.yaml`, 'utf8').split('\nprofiles:')[0] ?? '';
    const text = [
      hardware,
      'profiles: [./profiles.yaml, ./profiles-paper.yaml]',
      'pipelines:',
      '  - name: measured',
      '    slo: { latencyMs: 500 }',
      '    stages: [{ name: inception, model: tf-inception-measured, hardware: [gpu-k80, gpu-v100] }]',
    ].join('\n');
    const config = parseConfig(text, `${EXAMPLES}/in-memory.yaml`);
    const measured = config.profiles.find((p) => p.model === 'tf-inception-measured' && p.hardware === 'gpu-k80');
    expect(measured?.points[0]).to.deep.equal({ batchSize: 1, latencyMs: 67, throughputQps: 17.8 });
  });
});
