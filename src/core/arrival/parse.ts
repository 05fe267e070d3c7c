// Arrival specs as text: `kind:key=value,…` segments joined by `;`. Parsing reports every problem
// at once, each named by segment and key; formatting writes the canonical text that parses back
// to the same spec.
import { DURATION_HINT, formatDurationMs, parseDurationMs } from '../model/duration.js';
import { InvalidInputError } from '../model/errors.js';
import type { Problem } from '../model/errors.js';
import { parseDecimal } from './trace.js';
import { expectedArrivals } from './rates.js';
import { DEFAULT_CV, MAX_CV, MAX_EXPECTED_ARRIVALS } from './types.js';
import { MAX_WORKLOAD_SPAN_MS } from '../model/limits.js';
import type { ArrivalSegment, ArrivalSpec } from './types.js';

/** The grammar in one line: published in config/inferline.schema.json and used in errors. */
export const ARRIVAL_SPEC_HINT =
  'kind:key=value,… with kind poisson (rate, duration, seed?), gamma (rate, cv, duration, seed?), step (rate, factor, at, duration, cv?, seed?), ramp (from, to, duration, cv?, seed?) or spikes (rate, factor, every, width, duration, cv?, seed?); segments joined by ";"';

/** Every kind, with its keys in canonical order, and the subset that must be given. */
const KEYS: Readonly<Record<ArrivalSegment['kind'], readonly string[]>> = {
  poisson: ['rate', 'duration', 'seed'],
  gamma: ['rate', 'cv', 'duration', 'seed'],
  step: ['rate', 'factor', 'at', 'duration', 'cv', 'seed'],
  ramp: ['from', 'to', 'duration', 'cv', 'seed'],
  spikes: ['rate', 'factor', 'every', 'width', 'duration', 'cv', 'seed'],
};
const REQUIRED: Readonly<Record<ArrivalSegment['kind'], readonly string[]>> = {
  poisson: ['rate', 'duration'],
  gamma: ['rate', 'cv', 'duration'],
  step: ['rate', 'factor', 'at', 'duration'],
  ramp: ['from', 'to', 'duration'],
  spikes: ['rate', 'factor', 'every', 'width', 'duration'],
};

const KIND_LIST = 'poisson, gamma, step, ramp or spikes';


type ValueKind = 'positive' | 'duration' | 'cv' | 'seed';

/**
 * How each key's value is read, in the order values are checked. The first four keep the order
 * in which the original poisson and gamma problems were reported.
 */
const VALUE_KINDS: readonly (readonly [string, ValueKind])[] = [
  ['rate', 'positive'], ['duration', 'duration'], ['seed', 'seed'], ['cv', 'cv'],
  ['from', 'positive'], ['to', 'positive'], ['factor', 'positive'],
  ['at', 'duration'], ['every', 'duration'], ['width', 'duration'],
];

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
function durationValue(value: string, path: string, problems: Problem[]): number | undefined {
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

function cvValue(value: string, path: string, problems: Problem[]): number | undefined {
  const cv = positiveNumber(value, path, problems);
  if (cv !== undefined && cv > MAX_CV) {
    problems.push({ path, message: `${value} must be at most ${MAX_CV}` });
    return undefined;
  }
  return cv;
}

const READERS: Readonly<Record<ValueKind, (value: string, path: string, problems: Problem[]) => number | undefined>> = {
  positive: positiveNumber, duration: durationValue, cv: cvValue, seed: seedValue,
};

/** Reads `kind:key=value,…` into its kind and raw values, reporting syntax problems. */
function splitSegment(text: string, where: string, problems: Problem[]): { kind?: ArrivalSegment['kind']; values: Map<string, string> } {
  const colon = text.indexOf(':');
  const kindText = (colon >= 0 ? text.slice(0, colon) : text).trim().toLowerCase();
  const body = colon >= 0 ? text.slice(colon + 1) : '';
  const kind = isKind(kindText) ? kindText : undefined;
  if (kind === undefined) problems.push({ path: where, message: `unknown kind "${kindText}": expected ${KIND_LIST}` });

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
    if (kind !== undefined && !KEYS[kind].includes(key)) {
      problems.push({ path, message: `unknown key "${key}": ${kind} takes ${KEYS[kind].join(', ')}` });
    } else if (values.has(key)) {
      problems.push({ path, message: 'is given more than once' });
    } else {
      values.set(key, value);
    }
  }
  return kind === undefined ? { values } : { kind, values };
}

function parseSegment(text: string, index: number, problems: Problem[]): ArrivalSegment | undefined {
  const where = `segment ${index + 1}`;
  if (text === '') {
    problems.push({ path: where, message: `is empty: expected ${ARRIVAL_SPEC_HINT}` });
    return undefined;
  }
  const { kind, values } = splitSegment(text, where, problems);
  if (kind === undefined) return undefined;

  const before = problems.length;
  for (const key of REQUIRED[kind]) {
    if (!values.has(key)) problems.push({ path: `${where}.${key}`, message: `is missing: ${kind} needs ${REQUIRED[kind].join(', ')}` });
  }
  const n = new Map<string, number>();
  for (const [key, valueKind] of VALUE_KINDS) {
    const raw = values.get(key);
    const value = raw === undefined ? undefined : READERS[valueKind](raw, `${where}.${key}`, problems);
    if (value !== undefined) n.set(key, value);
  }
  checkRelations(n, values, where, problems);
  if (problems.length > before) return undefined;

  // Past this point every required key has a valid value.
  const get = (key: string): number => n.get(key) as number;
  const durationMs = get('duration');
  const cv = n.get('cv') ?? DEFAULT_CV;
  // No `seed: undefined` key, so that a parsed spec deep-equals its reparsed canonical text.
  const seedPart = n.has('seed') ? { seed: get('seed') } : {};
  switch (kind) {
    case 'poisson':
      return { kind, rateQps: get('rate'), durationMs, ...seedPart };
    case 'gamma':
      return { kind, rateQps: get('rate'), cv, durationMs, ...seedPart };
    case 'step':
      return { kind, rateQps: get('rate'), factor: get('factor'), atMs: get('at'), durationMs, cv, ...seedPart };
    case 'ramp':
      return { kind, fromQps: get('from'), toQps: get('to'), durationMs, cv, ...seedPart };
    case 'spikes':
      return { kind, rateQps: get('rate'), factor: get('factor'), everyMs: get('every'), widthMs: get('width'), durationMs, cv, ...seedPart };
  }
}

/**
 * Rules between keys, checked wherever both sides were read, so a spec with a bad rate and a
 * step past its end hears of both. A kind only holds the keys it takes, so each rule applies to
 * the kinds that have its keys.
 */
function checkRelations(n: ReadonlyMap<string, number>, text: ReadonlyMap<string, string>, where: string, problems: Problem[]): void {
  const rate = n.get('rate');
  const factor = n.get('factor');
  if (rate !== undefined && factor !== undefined) {
    const peak = rate * factor;
    if (!(peak > 0 && Number.isFinite(peak))) {
      problems.push({ path: `${where}.factor`, message: `${text.get('factor')}: rate × factor is ${peak}; it must be a finite number greater than 0` });
    }
  }
  const duration = n.get('duration');
  const at = n.get('at');
  if (at !== undefined && duration !== undefined && at >= duration) {
    problems.push({ path: `${where}.at`, message: `${text.get('at')} must be before the end of the segment (duration ${text.get('duration')})` });
  }
  const every = n.get('every');
  if (every !== undefined && duration !== undefined && every > duration) {
    problems.push({ path: `${where}.every`, message: `${text.get('every')} must be at most the duration (${text.get('duration')})` });
  }
  const width = n.get('width');
  if (width !== undefined && every !== undefined && width >= every) {
    problems.push({ path: `${where}.width`, message: `${text.get('width')} must be shorter than every (${text.get('every')})` });
  }
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
    // Negated so that a NaN integral is refused too.
    if (!(expected <= MAX_EXPECTED_ARRIVALS)) {
      problems.push({ path: '', message: `would generate about ${Math.round(expected)} arrivals; at most ${MAX_EXPECTED_ARRIVALS} are allowed (lower the rate or the duration)` });
    }
    const spanMs = segments.reduce((sum, seg) => sum + seg.durationMs, 0);
    if (!(spanMs <= MAX_WORKLOAD_SPAN_MS)) {
      problems.push({ path: '', message: `lasts ${formatDurationMs(spanMs)} in all; a workload may last at most ${formatDurationMs(MAX_WORKLOAD_SPAN_MS)} (shorten the durations)` });
    }
  }
  if (problems.length > 0) throw new InvalidInputError(`Invalid arrival spec "${text}"`, problems);
  return { segments };
}

/** The key=value pairs of a segment in canonical order; cv is left out where it is the default. */
function segmentPairs(seg: ArrivalSegment): string[] {
  const d = formatDurationMs;
  const tail = (cv: number | undefined): string[] => [
    ...(cv === undefined || cv === DEFAULT_CV ? [] : [`cv=${cv}`]),
    ...(seg.seed === undefined ? [] : [`seed=${seg.seed}`]),
  ];
  switch (seg.kind) {
    case 'poisson':
      return [`rate=${seg.rateQps}`, `duration=${d(seg.durationMs)}`, ...tail(undefined)];
    case 'gamma':
      return [`rate=${seg.rateQps}`, `cv=${seg.cv}`, `duration=${d(seg.durationMs)}`, ...tail(undefined)];
    case 'step':
      return [`rate=${seg.rateQps}`, `factor=${seg.factor}`, `at=${d(seg.atMs)}`, `duration=${d(seg.durationMs)}`, ...tail(seg.cv)];
    case 'ramp':
      return [`from=${seg.fromQps}`, `to=${seg.toQps}`, `duration=${d(seg.durationMs)}`, ...tail(seg.cv)];
    case 'spikes':
      return [
        `rate=${seg.rateQps}`, `factor=${seg.factor}`, `every=${d(seg.everyMs)}`, `width=${d(seg.widthMs)}`,
        `duration=${d(seg.durationMs)}`, ...tail(seg.cv),
      ];
  }
}

/** The canonical text of a spec: parseArrivalSpec(formatArrivalSpec(s)) deep-equals s. */
export function formatArrivalSpec(spec: ArrivalSpec): string {
  return spec.segments.map((seg) => `${seg.kind}:${segmentPairs(seg).join(',')}`).join(';');
}
