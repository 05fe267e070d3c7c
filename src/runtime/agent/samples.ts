// The body of POST /v1/samples (an agent's samples pushed to the leader), checked by its schema:
// a malformed push is answered 400 naming the field and never reaches the tuner.
import { z } from 'zod';
import { firstIssue } from '../../core/model/schema-issue.js';
import { HttpProblem } from '../agent-http.js';
import type { ModelSample } from '../../core/observe/sample.js';

const MAX_SAMPLES = 1000;

const finite = z.number({ error: 'must be a finite number' });
const gauge = z.number({ error: 'must be a number ≥ 0' }).min(0, { error: 'must be a number ≥ 0' }).optional();
const batchEntry = z.object({
  batchSize: z.number().int().min(1),
  executions: z.number().min(0),
  meanComputeMs: z.number().min(0).nullable(),
});
const BATCH_ENTRY = 'must be {batchSize ≥ 1, executions ≥ 0, meanComputeMs ≥ 0 or null}';

// Rates are read leniently: one that is not a finite number ≥ 0 becomes unknown (null), not trusted.
const rate = z.number().min(0).nullable().catch(null);
const rateFields = z.object({
  requestsPerS: rate, failuresPerS: rate, inferencesPerS: rate, executionsPerS: rate, meanQueueMs: rate, meanComputeMs: rate, meanBatchSize: rate,
});
const pushedRates = rateFields.catch(() => rateFields.parse({}));

const pushedSample = z.object({
  model: z.string({ error: 'must be a model name' }).min(1, { error: 'must be a model name' }),
  fromMs: finite,
  toMs: finite,
  arrivals: finite.min(0, { error: 'must be ≥ 0' }),
  reset: z.unknown().optional(),
  pending: gauge,
  queued: gauge,
  // One message for the entry, whichever of its fields is wrong.
  batchSizes: z.array(z.custom<z.infer<typeof batchEntry>>((v) => batchEntry.safeParse(v).success, { error: BATCH_ENTRY }), { error: 'must be a list' }).optional(),
  rates: pushedRates,
}, { error: 'must be an object' }).refine((s) => s.toMs > s.fromMs, { error: ': toMs must be after fromMs' });

const pushedBody = z.object({
  agentId: z.string({ error: 'must be a non-empty string' }).min(1, { error: 'must be a non-empty string' }),
  samples: z.array(pushedSample, { error: 'must be a list' }).max(MAX_SAMPLES, { error: `must hold at most ${MAX_SAMPLES} samples` }),
}, { error: 'the body must be an object {agentId, samples}' });

export function parsePushedSamples(body: unknown): { agentId: string; samples: ModelSample[] } {
  const parsed = pushedBody.safeParse(body);
  if (!parsed.success) throw new HttpProblem(400, `bad samples: ${firstIssue(parsed.error)}`);
  const samples = parsed.data.samples.map((s): ModelSample => ({
    model: s.model, fromMs: s.fromMs, toMs: s.toMs, arrivals: s.arrivals, reset: s.reset === true,
    ...(s.pending !== undefined ? { pending: s.pending } : {}),
    ...(s.queued !== undefined ? { queued: s.queued } : {}),
    rates: ratesOf(s.rates, s.toMs - s.fromMs),
    ...(s.batchSizes ? { batchSizes: s.batchSizes.map((b) => ({ batchSize: b.batchSize, executions: b.executions, meanComputeMs: b.meanComputeMs })) } : {}),
  }));
  return { agentId: parsed.data.agentId, samples };
}

/** The sample's rates over its window; requests and failures unknown count as none. */
function ratesOf(r: z.infer<typeof pushedRates>, windowMs: number): ModelSample['rates'] {
  return {
    windowMs,
    requestsPerS: r.requestsPerS ?? 0,
    failuresPerS: r.failuresPerS ?? 0,
    inferencesPerS: r.inferencesPerS,
    executionsPerS: r.executionsPerS,
    meanQueueMs: r.meanQueueMs,
    meanComputeMs: r.meanComputeMs,
    meanBatchSize: r.meanBatchSize,
  };
}
