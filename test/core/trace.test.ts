import { expect } from 'chai';
import fc from 'fast-check';
import { InvalidInputError } from '../../src/core/model/errors.js';
import { formatTrace, parseTrace, traceStats } from '../../src/core/arrival/trace.js';

function parseError(text: string, source = 'test.trace'): InvalidInputError {
  try {
    parseTrace(text, source);
  } catch (err) {
    expect(err).to.be.instanceOf(InvalidInputError);
    return err as InvalidInputError;
  }
  throw new Error(`expected ${JSON.stringify(text)} to be rejected`);
}

describe('parseTrace', () => {
  const good: { name: string; given: string; want: number[] }[] = [
    { name: 'one time per line', given: '0\n0.5\n1.25\n', want: [0, 0.5, 1.25] },
    { name: 'blank lines and comments', given: '# header comment\n\n0.1\n   \n# mid\n0.2 # trailing\n', want: [0.1, 0.2] },
    { name: 'CRLF and no final newline', given: '1\r\n2\r\n3', want: [1, 2, 3] },
    { name: 'equal times are allowed', given: '1\n1\n1\n', want: [1, 1, 1] },
    { name: 'exponent notation and -0', given: '-0\n1e-3\n2.5E1\n', want: [0, 0.001, 25] },
    { name: 'byte order mark', given: '\uFEFF0.5\n1\n', want: [0.5, 1] },
    { name: 'CSV, time column among others', given: 'id,Time,model\n1,0.1,a\n2,0.2,b\n', want: [0.1, 0.2] },
    { name: 'CSV, single column header', given: 'timestamp\n3\n4\n', want: [3, 4] },
    { name: 'CSV, arrival_time, spaces and comments', given: 'model , arrival_time\n# note\nm1, 0.5\n\nm2 , 0.75\n', want: [0.5, 0.75] },
    { name: 'CSV, quoted fields with commas', given: '"note",t\n"a, b",1\n"c",2\n', want: [1, 2] },
    { name: 'CSV, upper-case ARRIVAL', given: 'ARRIVAL\n0\n1\n', want: [0, 1] },
    { name: 'a gap of exactly one hour', given: '0\n3600\n', want: [0, 3600] },
  ];
  for (const { name, given, want } of good) {
    it(`parses: ${name}`, () => {
      const trace = parseTrace(given, 'x');
      expect(trace).to.be.instanceOf(Float64Array);
      expect(Array.from(trace)).to.deep.equal(want);
    });
  }

  const bad: { name: string; given: string; want: { path: string; message: RegExp } }[] = [
    { name: 'empty file', given: '', want: { path: '', message: /empty/ } },
    { name: 'only comments', given: '# nothing\n\n', want: { path: '', message: /empty/ } },
    { name: 'CSV header without rows', given: 'time\n', want: { path: '', message: /empty.*header/ } },
    { name: 'not a number', given: '0\n1\nabc\n', want: { path: 'line 3', message: /"abc" is not a number/ } },
    { name: 'hex is not a decimal', given: '0x10\n', want: { path: 'line 1', message: /not a number/ } },
    { name: 'two values on a line', given: '1 2\n', want: { path: 'line 1', message: /not a number/ } },
    { name: 'negative', given: '0\n-1.5\n', want: { path: 'line 2', message: /-1.5 is negative/ } },
    { name: 'NaN', given: '0\nNaN\n', want: { path: 'line 2', message: /not a finite number/ } },
    { name: 'Infinity', given: 'inf\n', want: { path: 'line 1', message: /not a finite number/ } },
    { name: 'overflowing literal', given: '1\n1e999\n', want: { path: 'line 2', message: /not a finite number/ } },
    { name: 'not sorted, naming both values', given: '0\n2.5\n\n1.5\n', want: { path: 'line 4', message: /1\.5 is earlier than 2\.5 on line 2/ } },
    { name: 'CSV without a time column', given: 'id,latency\n1,2\n', want: { path: 'line 1', message: /no time column \(columns: "id", "latency"\)/ } },
    { name: 'CSV with two time columns', given: 'time,t\n1,2\n', want: { path: 'line 1', message: /more than one time column/ } },
    { name: 'CSV row without the time column', given: 'id,time\n1,0.5\n2\n', want: { path: 'line 3', message: /time column "time" is column 2/ } },
    { name: 'CSV empty time field', given: 'time,id\n,1\n', want: { path: 'line 2', message: /empty/ } },
    { name: 'CSV value not a number', given: 'id,time\n1,soon\n', want: { path: 'line 2', message: /"soon" is not a number/ } },
    { name: 'CSV not sorted', given: 'time\n5\n4\n', want: { path: 'line 3', message: /4 is earlier than 5 on line 2/ } },
    { name: 'one arrival', given: '5\n', want: { path: '', message: /one arrival: a workload needs at least two/ } },
    { name: 'CSV with one row', given: 'time\n5\n', want: { path: '', message: /one arrival/ } },
    { name: 'CSV row with fewer columns than the header', given: 'time,x\n1,2\n2\n3,4\n', want: { path: 'line 3', message: /has 1 columns but the header has 2/ } },
    { name: 'CSV row with more columns than the header', given: 'time,x\n1,2\n3,4,5\n', want: { path: 'line 3', message: /has 3 columns but the header has 2/ } },
    { name: 'a gap over an hour', given: '0\n10000000\n', want: { path: 'line 2', message: /comes 2777\.8 h after 0 on line 1: gaps between arrivals must be at most 1 h/ } },
    { name: 'a gap of 1e308 seconds', given: '0\n1e308\n', want: { path: 'line 2', message: /gaps between arrivals must be at most 1 h/ } },
    { name: 'a span over a day', given: `${Array.from({ length: 26 }, (_, i) => i * 3600).join('\n')}\n`, want: { path: 'line 26', message: /25 h after the first arrival: a trace may span at most 24 h/ } },
    { name: 'binary data', given: '0\n1\n\u0000\u0001\u0002PK\n', want: { path: 'line 3', message: /binary data \(byte 0x00\)/ } },
    { name: 'a long token is cut', given: `0\n${'z'.repeat(500)}\n`, want: { path: 'line 2', message: /^"z{39}…" is not a number/ } },
  ];
  for (const { name, given, want } of bad) {
    it(`rejects: ${name}`, () => {
      const err = parseError(given);
      expect(err.problems[0]?.path).to.equal(want.path);
      expect(err.problems[0]?.message).to.match(want.message);
      expect(err.message).to.contain('test.trace');
    });
  }

  it('reports every problem, each with its line', () => {
    const err = parseError('1\nx\n-2\n0.5\n3\n');
    expect(err.problems.map((p) => p.path)).to.deep.equal(['line 2', 'line 3', 'line 4']);
  });

  it('lists ten problems, then how many more', () => {
    const err = parseError(`0\n${Array.from({ length: 25 }, () => '-1').join('\n')}\n`);
    expect(err.problems).to.have.length(11);
    expect(err.problems[9]?.path).to.equal('line 11');
    expect(err.problems[10]?.message).to.equal('… and 15 more');
  });

  it('compares order against the last good value', () => {
    const err = parseError('1\n3\nbad\n2\n');
    expect(err.problems[1]?.message).to.match(/2 is earlier than 3 on line 2/);
  });
});

describe('formatTrace', () => {
  it('writes six decimals per line with a trailing newline', () => {
    expect(formatTrace(Float64Array.from([0, 0.5, 1 / 3, 12]))).to.equal('0.000000\n0.500000\n0.333333\n12.000000\n');
  });

  it('writes nothing for an empty trace', () => {
    expect(formatTrace(new Float64Array(0))).to.equal('');
  });

  it('round-trips through parseTrace once rounded to microseconds', () => {
    // Within the span and gap limits (an hour): longer traces are refused, tested below.
    const times = fc.array(fc.double({ min: 0, max: 3600, noNaN: true }), { minLength: 2, maxLength: 50 })
      .map((xs) => Float64Array.from(xs.sort((a, b) => a - b)));
    fc.assert(fc.property(times, (trace) => {
      const text = formatTrace(trace);
      expect(formatTrace(parseTrace(text, 'x'))).to.equal(text);
    }));
  });
});

describe('traceStats', () => {
  const cases: { name: string; given: number[]; want: { count: number; durationS: number; meanRateQps: number; interArrivalCv: number } }[] = [
    { name: 'empty', given: [], want: { count: 0, durationS: 0, meanRateQps: 0, interArrivalCv: 0 } },
    { name: 'one arrival', given: [3], want: { count: 1, durationS: 0, meanRateQps: 0, interArrivalCv: 0 } },
    { name: 'all at one instant', given: [2, 2, 2], want: { count: 3, durationS: 0, meanRateQps: 0, interArrivalCv: 0 } },
    { name: 'evenly spaced', given: [0, 1, 2, 3, 4], want: { count: 5, durationS: 4, meanRateQps: 1.25, interArrivalCv: 0 } },
    // gaps 1 and 3: mean 2, population std 1
    { name: 'uneven gaps', given: [0, 1, 4], want: { count: 3, durationS: 4, meanRateQps: 0.75, interArrivalCv: 0.5 } },
  ];
  for (const { name, given, want } of cases) {
    it(name, () => {
      const s = traceStats(Float64Array.from(given));
      expect(s.count).to.equal(want.count);
      expect(s.durationS).to.equal(want.durationS);
      expect(s.meanRateQps).to.be.closeTo(want.meanRateQps, 1e-12);
      expect(s.interArrivalCv).to.be.closeTo(want.interArrivalCv, 1e-12);
    });
  }
});
