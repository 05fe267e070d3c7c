import { expect } from 'chai';
import { AggregationTemporality, InstrumentType } from '@opentelemetry/sdk-metrics';
import { temporalityOf } from '../../src/telemetry/otlp-push.js';

// What OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE asks of the reader (the exporter is loaded
// only at the first push, so the reader decides alone).
describe('telemetry: OTLP temporality preference', () => {
  const D = AggregationTemporality.DELTA;
  const C = AggregationTemporality.CUMULATIVE;
  const types = [
    InstrumentType.COUNTER, InstrumentType.OBSERVABLE_COUNTER, InstrumentType.GAUGE, InstrumentType.HISTOGRAM,
    InstrumentType.OBSERVABLE_GAUGE, InstrumentType.UP_DOWN_COUNTER, InstrumentType.OBSERVABLE_UP_DOWN_COUNTER,
  ];
  const cases: { given: string | undefined; want: AggregationTemporality[] }[] = [
    { given: undefined, want: [C, C, C, C, C, C, C] },
    { given: 'cumulative', want: [C, C, C, C, C, C, C] },
    { given: 'DELTA', want: [D, D, D, D, D, C, C] },
    { given: 'lowmemory', want: [D, C, C, D, C, C, C] },
    { given: 'bogus', want: [C, C, C, C, C, C, C] },
  ];
  for (const { given, want } of cases) {
    it(`${given ?? '(unset)'}`, () => expect(types.map((t) => temporalityOf(given)(t))).to.deep.equal(want));
  }
});
