import { expect } from 'chai';
import { noteLongWork, printWarnings } from '../../src/cli/warnings.js';

function capture(f: (o: { out: (s: string) => void; err: (s: string) => void }) => void): string {
  let err = '';
  f({ out: () => undefined, err: (s) => { err += s; } });
  return err;
}

describe('cli warnings and notes', () => {
  it('prints each warning with the file and path', () => {
    expect(capture((o) => printWarnings(o, 'c.yaml', [{ path: 'profiles[0].points', message: 'no point at batch 1' }, { path: '', message: 'whole file' }])))
      .to.equal('inferline: warning: c.yaml: profiles[0].points: no point at batch 1\ninferline: warning: c.yaml: whole file\n');
    expect(capture((o) => printWarnings(o, 'c.yaml', undefined))).to.equal('');
  });

  const cases: { name: string; what: 'plan' | 'simulate'; trace: Float64Array; controllers?: number; want: RegExp | '' }[] = [
    { name: 'a small plan says nothing', what: 'plan', trace: Float64Array.from([0, 1, 2]), want: '' },
    { name: 'a plan on 300 000 arrivals says it may take a minute', what: 'plan', trace: new Float64Array(300_000), want: /^inferline: planning on 300000 arrivals: this may take a minute\n$/ },
    { name: 'a simulation of an hour says nothing', what: 'simulate', trace: Float64Array.from([0, 3600]), want: '' },
    { name: 'a simulation of 3 h with 6 controllers says so', what: 'simulate', trace: Float64Array.from([0, 3600, 7200, 10800]), controllers: 6, want: /^inferline: simulating 3\.0 h of traffic with 6 controllers, a tick a second: this may take a minute per controller\n$/ },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const err = capture((o) => noteLongWork(o, c.what, c.trace, c.controllers));
      if (c.want === '') expect(err).to.equal('');
      else expect(err).to.match(c.want);
    });
  }
});
