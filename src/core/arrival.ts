// Arrival specs: synthetic workloads written as text, e.g.
//   poisson:rate=100,duration=60s
//   gamma:rate=100,cv=1,duration=120s;gamma:rate=400,cv=4,duration=120s,seed=7
// Segments joined by `;` play one after another. Each segment draws from its own named stream
// (`arrivals/<index>`), so editing one segment never changes another's arrivals.
import { DURATION_HINT, formatDurationMs, parseDurationMs } from './duration.js';
import { InvalidInputError } from './errors.js';
import type { Problem } from './errors.js';
import { RandomStream } from './random.js';
import { parseDecimal } from './trace.js';

/** Memoryless arrivals at `rateQps`: exponential inter-arrival times (CV 1). */
export interface PoissonSegment {
  readonly kind: 'poisson';
  readonly rateQps: number;
  readonly durationMs: number;
  /** Overrides the default seed for this segment only. */
  readonly seed?: number;
}

/**
 * Gamma-distributed inter-arrival times with mean 1/rateQps and coefficient of variation `cv`:
 * shape = 1/cv², scale = cv²/rate. This is the true CV; the InferLine authors' generator used
 * shape = 1/CV, so their "CV" was really CV².
 */
export interface GammaSegment {
  readonly kind: 'gamma';
  readonly rateQps: number;
  readonly cv: number;
  readonly durationMs: number;
  readonly seed?: number;
}

export type ArrivalSegment = PoissonSegment | GammaSegment;

/** A parsed arrival spec: segments played one after another. */
export interface ArrivalSpec {
  readonly segments: readonly ArrivalSegment[];
}

export const ARRIVAL_SPEC_HINT =
  'kind:key=value,… with kind poisson (rate, duration, seed?) or gamma (rate, cv, duration, seed?), segments joined by ";"';

/** Above this CV, shape = 1/cv² is so small that the sampler's draws underflow to zero gaps. */
export const MAX_CV = 100;

/** A guard against specs that would fill memory (8 bytes per arrival). */
export const MAX_EXPECTED_ARRIVALS = 50_000_000;

const KEYS: Readonly<Record<ArrivalSegment['kind'], readonly string[]>> = {
  poisson: ['rate', 'duration', 'seed'],
  gamma: ['rate', 'cv', 'duration', 'seed'],
};
const REQUIRED: Readonly<Record<ArrivalSegment['kind'], readonly string[]>> = {
  poisson: ['rate', 'duration'],
  gamma: ['rate', 'cv', 'duration'],
};

function isKind(text: string): text is ArrivalSegment['kind'] {
  return Object.prototype.hasOwnProperty.call(KEYS, text);
}

function positiveNumber(value: string, path: string, problems: Problem[]): number | undefined {
  const n = parseDecimal(value);
  if (n === undefined || !Number.isFinite(n)) {
    problems.push({ path, message: `"${value}" is not a finite number` });
    return undefined;
  }
  if (n <= 0) {
    problems.push({ path, message: `${value} must be greater than 0` });
    return undefined;
  }
  return n;
}

/** A duration string ("60s", "5m", "250ms") or a bare number of seconds, to milliseconds. */
function durationMs(value: string, path: string, problems: Problem[]): number | undefined {
  const bare = parseDecimal(value);
  const ms = bare !== undefined ? bare * 1000 : parseDurationMs(value);
  if (ms === undefined || !Number.isFinite(ms)) {
    problems.push({ path, message: `"${value}" is not a duration: expected ${DURATION_HINT}, or a number of seconds` });
    return undefined;
  }
  if (ms <= 0) {
    problems.push({ path, message: `${value} must be longer than 0` });
    return undefined;
  }
  // Round to nanoseconds so that "1.1s" is 1100 ms, not 1100.0000000000002.
  return Math.round(ms * 1e6) / 1e6;
}

function seedValue(value: string, path: string, problems: Problem[]): number | undefined {
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n)) {
    problems.push({ path, message: `"${value}" is not a seed: expected a non-negative integer` });
    return undefined;
  }
  return n;
}

function parseSegment(text: string, index: number, problems: Problem[]): ArrivalSegment | undefined {
  const where = `segment ${index + 1}`;
  if (text === '') {
    problems.push({ path: where, message: `is empty: expected ${ARRIVAL_SPEC_HINT}` });
    return undefined;
  }
  const colon = text.indexOf(':');
  const kindText = (colon >= 0 ? text.slice(0, colon) : text).trim().toLowerCase();
  const body = colon >= 0 ? text.slice(colon + 1) : '';
  const known = isKind(kindText);
  if (!known) {
    problems.push({ path: where, message: `unknown kind "${kindText}": expected poisson or gamma` });
  }

  const values = new Map<string, string>();
  for (const pairText of body.split(',')) {
    const pair = pairText.trim();
    if (pair === '') {
      if (body.trim() !== '') problems.push({ path: where, message: 'has an empty key=value pair (stray comma?)' });
      continue;
    }
    const eq = pair.indexOf('=');
    if (eq < 0) {
      problems.push({ path: `${where}.${pair}`, message: 'expected key=value' });
      continue;
    }
    const key = pair.slice(0, eq).trim().toLowerCase();
    const value = pair.slice(eq + 1).trim();
    const path = `${where}.${key}`;
    if (known && !KEYS[kindText].includes(key)) {
      problems.push({ path, message: `unknown key "${key}": ${kindText} takes ${KEYS[kindText].join(', ')}` });
    } else if (values.has(key)) {
      problems.push({ path, message: 'is given more than once' });
    } else {
      values.set(key, value);
    }
  }
  if (!known) return undefined;

  const before = problems.length;
  for (const key of REQUIRED[kindText]) {
    if (!values.has(key)) problems.push({ path: `${where}.${key}`, message: `is missing: ${kindText} needs ${REQUIRED[kindText].join(', ')}` });
  }
  const rateText = values.get('rate');
  const rateQps = rateText === undefined ? undefined : positiveNumber(rateText, `${where}.rate`, problems);
  const durText = values.get('duration');
  const dur = durText === undefined ? undefined : durationMs(durText, `${where}.duration`, problems);
  const seedText = values.get('seed');
  const seed = seedText === undefined ? undefined : seedValue(seedText, `${where}.seed`, problems);
  const cvText = values.get('cv');
  let cv: number | undefined;
  if (cvText !== undefined) {
    cv = positiveNumber(cvText, `${where}.cv`, problems);
    if (cv !== undefined && cv > MAX_CV) {
      problems.push({ path: `${where}.cv`, message: `${cvText} must be at most ${MAX_CV}` });
      cv = undefined;
    }
  }
  if (problems.length > before || rateQps === undefined || dur === undefined) return undefined;

  // No `seed: undefined` key, so that a parsed spec deep-equals its reparsed canonical text.
  const seedPart = seed === undefined ? {} : { seed };
  if (kindText === 'poisson') return { kind: 'poisson', rateQps, durationMs: dur, ...seedPart };
  return cv === undefined ? undefined : { kind: 'gamma', rateQps, cv, durationMs: dur, ...seedPart };
}

/** Parses an arrival spec; throws InvalidInputError naming the spec and listing every problem. */
export function parseArrivalSpec(text: string): ArrivalSpec {
  const problems: Problem[] = [];
  const segments: ArrivalSegment[] = [];
  if (text.trim() === '') {
    problems.push({ path: '', message: `is empty: expected ${ARRIVAL_SPEC_HINT}` });
  } else {
    text.split(';').forEach((segText, i) => {
      const seg = parseSegment(segText.trim(), i, problems);
      if (seg) segments.push(seg);
    });
  }
  if (problems.length === 0) {
    const expected = expectedArrivals({ segments });
    if (expected > MAX_EXPECTED_ARRIVALS) {
      problems.push({ path: '', message: `would generate about ${Math.round(expected)} arrivals; at most ${MAX_EXPECTED_ARRIVALS} are allowed` });
    }
  }
  if (problems.length > 0) throw new InvalidInputError(`Invalid arrival spec "${text}"`, problems);
  return { segments };
}

/** The canonical text of a spec: parseArrivalSpec(formatArrivalSpec(s)) deep-equals s. */
export function formatArrivalSpec(spec: ArrivalSpec): string {
  return spec.segments.map((seg) => {
    const parts = [`rate=${seg.rateQps}`];
    if (seg.kind === 'gamma') parts.push(`cv=${seg.cv}`);
    parts.push(`duration=${formatDurationMs(seg.durationMs)}`);
    if (seg.seed !== undefined) parts.push(`seed=${seg.seed}`);
    return `${seg.kind}:${parts.join(',')}`;
  }).join(';');
}

/** Total length of the spec, in milliseconds. */
export function arrivalSpecDurationMs(spec: ArrivalSpec): number {
  let total = 0;
  for (const seg of spec.segments) total += seg.durationMs;
  return total;
}

/** The mean number of arrivals the spec generates. */
export function expectedArrivals(spec: ArrivalSpec): number {
  let total = 0;
  for (const seg of spec.segments) total += (seg.rateQps * seg.durationMs) / 1000;
  return total;
}

/**
 * Generates the arrival times (seconds) of a spec. Deterministic: the same spec and seed give the
 * same trace, bit for bit. Segment i draws from stream `arrivals/i` of its own seed (or
 * `defaultSeed`), starts at the sum of the previous durations, and keeps the arrivals strictly
 * before its end; the first arrival comes one drawn gap after its start.
 */
export function generateTrace(spec: ArrivalSpec, defaultSeed: number): Float64Array {
  if (!Number.isSafeInteger(defaultSeed) || defaultSeed < 0) {
    throw new RangeError(`generateTrace: seed must be a non-negative integer, got ${defaultSeed}`);
  }
  let buf = new Float64Array(Math.min(MAX_EXPECTED_ARRIVALS, Math.ceil(expectedArrivals(spec) * 1.05) + 64));
  let n = 0;
  let last = 0;
  let offsetMs = 0;
  spec.segments.forEach((seg, index) => {
    const rs = new RandomStream(seg.seed ?? defaultSeed, `arrivals/${index}`);
    const offsetS = offsetMs / 1000;
    const endS = seg.durationMs / 1000;
    const poisson = seg.kind === 'poisson';
    const mean = 1 / seg.rateQps;
    const cv2 = seg.kind === 'gamma' ? seg.cv * seg.cv : 1;
    const shape = 1 / cv2;
    const scale = cv2 / seg.rateQps;
    let t = 0;
    for (;;) {
      t += poisson ? rs.exponential(mean) : rs.gamma(shape, scale);
      if (t >= endS) break;
      // Rounding in offset + t could put a segment's first arrival an ulp before the previous
      // segment's last; clamping keeps the trace non-decreasing.
      let at = offsetS + t;
      if (at < last) at = last;
      if (n === buf.length) {
        const bigger = new Float64Array(buf.length * 2);
        bigger.set(buf);
        buf = bigger;
      }
      buf[n++] = at;
      last = at;
    }
    offsetMs += seg.durationMs;
  });
  return buf.slice(0, n);
}
