// Traces of existing specs, recorded before the modulated kinds (step, ramp, spikes) were added:
// new kinds must never shift the arrivals of a spec that was valid before them.
import { expect } from 'chai';
import { generateTrace, parseArrivalSpec } from '../../src/core/arrival/spec.js';

/** FNV-1a over the little-endian bytes of every value: any changed bit changes it. */
function digest(trace: Float64Array): string {
  const view = new DataView(new ArrayBuffer(8));
  let h = 0x811c9dc5;
  for (const t of trace) {
    view.setFloat64(0, t, true);
    for (let i = 0; i < 8; i++) {
      h ^= view.getUint8(i);
      h = Math.imul(h, 0x01000193);
    }
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

describe('generateTrace golden traces (recorded before step, ramp and spikes)', () => {
  const cases: { name: string; given: { spec: string; seed: number }; want: { count: number; first: number[]; digest: string } }[] = [
    {
      name: 'gamma cv=4',
      given: { spec: 'gamma:rate=100,cv=4,duration=10s', seed: 1 },
      want: {
        count: 774,
        first: [9.347540666787021e-14, 0.007502222142594624, 0.007502222142703389, 0.007502563214052657, 0.00750256321405294],
        digest: '478e8954',
      },
    },
    {
      name: 'poisson',
      given: { spec: 'poisson:rate=50,duration=5s', seed: 2 },
      want: {
        count: 244,
        first: [0.042173499195018185, 0.04288016556974226, 0.056425847698203836, 0.061306156474134656, 0.07621043875029962],
        digest: '7fc4bd66',
      },
    },
    {
      name: 'composition with a segment seed',
      given: { spec: 'gamma:rate=200,cv=0.5,duration=3s;poisson:rate=80,duration=2s,seed=9', seed: 3 },
      want: {
        count: 768,
        first: [0.004306613148700337, 0.0064141665048143386, 0.018990309048425073, 0.02134472926473697, 0.02389776108118897],
        digest: '1537182b',
      },
    },
  ];
  for (const { name, given, want } of cases) {
    it(`is unchanged: ${name}`, () => {
      const trace = generateTrace(parseArrivalSpec(given.spec), given.seed);
      expect(trace.length).to.equal(want.count);
      expect(Array.from(trace.slice(0, 5))).to.deep.equal(want.first);
      expect(digest(trace)).to.equal(want.digest);
    });
  }
});
