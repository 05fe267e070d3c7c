// --out: measured profiles merged into a profile file that the loader (and the emulator) read again.
import { expect } from 'chai';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidInputError } from '../../../src/core/model/errors.js';
import type { ProfileOptions } from '../../../src/core/model/profiles.js';
import { readProfileFile } from '../../../src/emulator/index.js';
import { mergeIntoProfileFile } from '../../../src/runtime/profiler/index.js';

const measured: ProfileOptions[] = [{
  model: 'm', hardware: 'gpu-t4', points: [
    { batchSize: 1, latencyMs: 9.5, throughputQps: 100, p99LatencyMs: 12, samples: 40, source: 'active', measuredAt: '2026-11-30T10:00:00.000Z', stable: true, clientLatencyMs: 10, computeLatencyMs: 9.5 },
    { batchSize: 4, latencyMs: 15, samples: 3, source: 'active', measuredAt: '2026-11-30T10:00:01.000Z', stable: false, computeLatencyMs: 15 },
  ],
}];

describe('runtime/profiler/profile-file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'inferline-profile-file-'));

  it('creates a YAML file the loader reads back, provenance included', () => {
    const file = join(dir, 'new.yaml');
    const u = mergeIntoProfileFile(file, measured);
    expect(u).to.deep.equal({ file, merged: false, written: 2, kept: [], profiles: 1 });
    const text = readFileSync(file, 'utf8');
    expect(text).to.match(/^profiles:\n {2}- model: m\n {4}hardware: gpu-t4\n/);
    expect(text).to.contain("measuredAt: '2026-11-30T10:00:00.000Z'");
    const [p] = readProfileFile(file);
    expect(p?.points.map((x) => [x.batchSize, x.latencyMs, x.source, x.stable])).to.deep.equal([[1, 9.5, 'active', true], [4, 15, 'active', false]]);
  });

  it('merges into an existing file: other profiles kept in order; a stable point not overwritten by an unstable one', () => {
    const file = join(dir, 'existing.json');
    writeFileSync(file, JSON.stringify({
      profiles: [
        { model: 'other', hardware: 'cpu', points: [{ batchSize: 1, latencyMs: 3 }] },
        { model: 'm', hardware: 'gpu-t4', points: [{ batchSize: 4, latencyMs: 14, stable: true }, { batchSize: 8, latencyMs: 25 }] },
      ],
    }));
    const u = mergeIntoProfileFile(file, measured);
    expect(u.merged).to.equal(true);
    expect(u.written).to.equal(1);
    expect(u.kept).to.deep.equal([{ model: 'm', hardware: 'gpu-t4', batchSize: 4 }]);
    const body = JSON.parse(readFileSync(file, 'utf8')) as { profiles: ProfileOptions[] };
    expect(body.profiles.map((p) => p.model)).to.deep.equal(['other', 'm']);
    expect(body.profiles[1]?.points.map((p) => [p.batchSize, p.latencyMs])).to.deep.equal([[1, 9.5], [4, 14], [8, 25]]);
  });

  it('refuses to merge into a file that is not a valid profile file, and leaves it alone', () => {
    const file = join(dir, 'bad.yaml');
    const text = 'profiles:\n  - model: m\n    hardware: cpu\n    points: [{batchSize: 0, latencyMs: 1}]\n';
    writeFileSync(file, text);
    expect(() => mergeIntoProfileFile(file, measured)).to.throw(InvalidInputError, /bad\.yaml: not a profile file to merge into/);
    expect(readFileSync(file, 'utf8')).to.equal(text);
  });
});
