// Arrival specs: synthetic workloads written as text, e.g.
//   poisson:rate=100,duration=60s
//   gamma:rate=100,cv=1,duration=120s;gamma:rate=400,cv=4,duration=120s,seed=7
//   step:rate=100,factor=4,at=30s,duration=60s,cv=2
//   ramp:from=100,to=400,duration=2m
//   spikes:rate=100,factor=5,every=10s,width=1s,duration=5m
// Segments joined by `;` play one after another. Each segment draws from its own named stream
// (`arrivals/<index>`), so editing one segment never changes another's arrivals.
// This file is the public surface; the parts live in ./arrival/.
export type {
  ArrivalSegment, ArrivalSpec, GammaSegment, ModulatedSegment, PoissonSegment, RampSegment, SpikesSegment, StepSegment,
} from './types.js';
export { DEFAULT_CV, MAX_CV, MAX_EXPECTED_ARRIVALS } from './types.js';
export { ARRIVAL_SPEC_HINT, formatArrivalSpec, parseArrivalSpec } from './parse.js';
export { arrivalSpecDurationMs, expectedArrivals } from './rates.js';
export { generateTrace } from './generate.js';
