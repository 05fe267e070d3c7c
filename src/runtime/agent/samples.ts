// The body of POST /v1/samples (an agent's samples pushed to the leader), checked field by field:
// a malformed push is answered 400 naming the field and never reaches the tuner.
import { HttpProblem } from '../agent-http.js';
import type { ModelSample } from '../collector.js';

const MAX_SAMPLES = 1000;

export function parsePushedSamples(body: unknown): { agentId: string; samples: ModelSample[] } {
  const bad = (what: string): never => {
    throw new HttpProblem(400, `bad samples: ${what}`);
  };
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return bad('the body must be an object {agentId, samples}');
  const b = body as Record<string, unknown>;
  const agentId = b['agentId'];
  if (typeof agentId !== 'string' || agentId === '') return bad('agentId must be a non-empty string');
  const list = b['samples'];
  if (!Array.isArray(list)) return bad('samples must be a list');
  if (list.length > MAX_SAMPLES) return bad(`more than ${MAX_SAMPLES} samples`);
  const samples = list.map((raw, i): ModelSample => {
    const s = raw as Record<string, unknown> | null;
    const at = `samples[${i}]`;
    if (typeof s !== 'object' || s === null) return bad(`${at} must be an object`);
    const num = (k: string): number => {
      const v = s[k];
      if (typeof v !== 'number' || !Number.isFinite(v)) return bad(`${at}.${k} must be a finite number`);
      return v;
    };
    if (typeof s['model'] !== 'string' || s['model'] === '') return bad(`${at}.model must be a model name`);
    const fromMs = num('fromMs');
    const toMs = num('toMs');
    if (!(toMs > fromMs)) bad(`${at}: toMs must be after fromMs`);
    const arrivals = num('arrivals');
    if (arrivals < 0) bad(`${at}.arrivals must be ≥ 0`);
    const batchSizes = s['batchSizes'];
    if (batchSizes !== undefined && !Array.isArray(batchSizes)) bad(`${at}.batchSizes must be a list`);
    const sizes = (batchSizes as unknown[] | undefined)?.map((x, j) => {
      const e = x as Record<string, unknown> | null;
      const bs = e?.['batchSize'];
      const ex = e?.['executions'];
      const mc = e?.['meanComputeMs'];
      if (typeof bs !== 'number' || !Number.isInteger(bs) || bs < 1 || typeof ex !== 'number' || !(ex >= 0) || (mc !== null && (typeof mc !== 'number' || !(mc >= 0)))) {
        return bad(`${at}.batchSizes[${j}] must be {batchSize ≥ 1, executions ≥ 0, meanComputeMs ≥ 0 or null}`);
      }
      return { batchSize: bs, executions: ex, meanComputeMs: mc as number | null };
    });
    const gauge = (k: 'pending' | 'queued'): number | undefined => {
      const v = s[k];
      if (v !== undefined && (typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v))) bad(`${at}.${k} must be a number ≥ 0`);
      return v as number | undefined;
    };
    const pending = gauge('pending');
    const queued = gauge('queued');
    return {
      model: s['model'], fromMs, toMs, arrivals, reset: s['reset'] === true,
      ...(pending !== undefined ? { pending } : {}),
      ...(queued !== undefined ? { queued } : {}),
      rates: ratesOf(s['rates'], toMs - fromMs),
      ...(sizes ? { batchSizes: sizes } : {}),
    };
  });
  return { agentId, samples };
}

/** The sample's rates, each a finite number ≥ 0 or null (unknown): anything else is dropped, not trusted. */
function ratesOf(raw: unknown, windowMs: number): ModelSample['rates'] {
  const r = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const num = (k: string): number | null => {
    const v = r[k];
    return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : null;
  };
  return {
    windowMs,
    requestsPerS: num('requestsPerS') ?? 0,
    failuresPerS: num('failuresPerS') ?? 0,
    inferencesPerS: num('inferencesPerS'),
    executionsPerS: num('executionsPerS'),
    meanQueueMs: num('meanQueueMs'),
    meanComputeMs: num('meanComputeMs'),
    meanBatchSize: num('meanBatchSize'),
  };
}
