import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadTrace, resolveWorkload } from '../../src/runtime/trace-source.js';
import { InvalidInputError } from '../../src/core/model/errors.js';

const dir = mkdtempSync(path.join(tmpdir(), 'inferline-trace-'));

describe('runtime/trace-source', () => {
  it('loads a trace file', async () => {
    const f = path.join(dir, 't.txt');
    writeFileSync(f, '0\n0.5\n1.25\n');
    expect(Array.from(await loadTrace(f))).to.deep.equal([0, 0.5, 1.25]);
  });

  it('names the file when it cannot be read', async () => {
    const f = path.join(dir, 'missing.txt');
    try {
      await loadTrace(f);
      expect.fail('no error');
    } catch (err) {
      expect(err).to.be.instanceOf(InvalidInputError);
      expect((err as Error).message).to.contain(f);
    }
  });

  it('prefers a trace file, then a spec, then the fallback spec; a spec is generated with the seed', async () => {
    const f = path.join(dir, 'w.txt');
    writeFileSync(f, '1\n2\n');
    expect((await resolveWorkload({ traceFile: f, fallbackSpec: 'poisson:rate=1,duration=1s', seed: 1 })).description).to.equal(f);
    const a = await resolveWorkload({ arrivalSpec: 'poisson:rate=50,duration=10s', fallbackSpec: 'poisson:rate=1,duration=1s', seed: 1 });
    const b = await resolveWorkload({ arrivalSpec: 'poisson:rate=50,duration=10s', fallbackSpec: 'poisson:rate=1,duration=1s', seed: 1 });
    const c = await resolveWorkload({ fallbackSpec: 'poisson:rate=50,duration=10s', seed: 2 });
    expect(Array.from(a.trace)).to.deep.equal(Array.from(b.trace));
    expect(a.trace.length).to.be.within(400, 600);
    expect(Array.from(c.trace)).to.not.deep.equal(Array.from(a.trace));
  });
});
