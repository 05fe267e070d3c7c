// Plan files (what `inferline plan --out` writes): parsed, validated against their schema, and
// checked against the config they are applied to, with every problem named by file and path.
import { readTextFile } from './read-text.js';
import { z } from 'zod';
import { InvalidInputError } from '../core/model/errors.js';
import type { Problem } from '../core/model/errors.js';
import { ProfileSet } from '../core/model/profiles.js';
import type { StageConfig } from '../core/model/types.js';
import type { EnvelopePoint } from '../core/arrival/envelope.js';
import { parseText } from './parse-text.js';
import { describeReadError } from './profile-sources.js';
import { problemsFromIssues } from './issues.js';
import type { InferlineConfig } from './types.js';
import { MAX_BATCH_SIZE, MAX_PLAN_REPLICAS } from '../core/model/limits.js';
import { isApplicableDelay } from '../core/sim/batch-delay.js';

const stageConfig = z.object({
  hardware: z.string().min(1),
  batchSize: z.int().min(1).max(MAX_BATCH_SIZE),
  replicas: z.int().min(1).max(MAX_PLAN_REPLICAS),
  batchDelayMs: z.number().min(0).max(60_000).optional(),
});

const planSchema = z.object({
  pipeline: z.string().min(1),
  sloMs: z.number().positive().optional(),
  percentile: z.number().optional(),
  feasible: z.boolean().optional(),
  costPerHour: z.number().optional(),
  stages: z.record(z.string(), stageConfig),
  envelope: z.array(z.object({ windowMs: z.number().positive(), maxArrivals: z.number().min(0), rateQps: z.number().min(0) })).min(1),
  seed: z.int().min(0).optional(),
  slack: z.number().min(1).optional(),
  scaling: z.array(z.object({ factor: z.number().positive(), replicas: z.record(z.string(), z.int().min(1).max(MAX_PLAN_REPLICAS)) })).optional(),
  workload: z.object({ source: z.string().optional(), queries: z.number().optional(), meanRateQps: z.number().positive().optional() }).loose().optional(),
}).loose();

/** What the closed loop needs from a plan file, checked against the config. */
export interface LoadedPlan {
  readonly pipeline: string;
  readonly stages: Readonly<Record<string, StageConfig>>;
  readonly envelope: readonly EnvelopePoint[];
  readonly plannedRateQps: number;
  /** The planning workload, when the plan names it. */
  readonly workload?: string;
  readonly seed?: number;
  /** The plan's slack (default 1 for plans that do not record it). */
  readonly slack: number;
  /** The plan's scaling curve, when it records one (Plan.scaling; older plan files have none). */
  readonly scaling?: readonly { readonly factor: number; readonly replicas: Readonly<Record<string, number>> }[];
}

/**
 * Reads a plan file (one plan, or an array of plans) and returns the plan of `pipeline` (or the
 * only one), checked against `config`.
 */
export async function loadPlanFile(file: string, config: InferlineConfig, pipeline?: string): Promise<LoadedPlan> {
  let text: string;
  try {
    text = await readTextFile(file);
  } catch (err) {
    const message = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : describeReadError(err);
    throw new InvalidInputError(`Cannot read plan ${file}`, [{ path: '', message }], { cause: err });
  }
  return parsePlan(text, file, config, pipeline);
}

export function parsePlan(text: string, file: string, config: InferlineConfig, pipeline?: string): LoadedPlan {
  const parsed = parseText(text, file);
  if (!parsed.ok) throw new InvalidInputError(`Invalid plan ${file}`, [{ path: '', message: parsed.message }]);
  const items = Array.isArray(parsed.value) ? parsed.value : [parsed.value];
  const pathOf = (i: number) => (Array.isArray(parsed.value) ? `[${i}]` : '');
  const problems: Problem[] = [];
  const plans: { plan: z.output<typeof planSchema>; at: string }[] = [];
  items.forEach((item, i) => {
    const r = planSchema.safeParse(item, { reportInput: true });
    if (!r.success) {
      for (const p of problemsFromIssues(r.error.issues)) problems.push({ path: join(pathOf(i), p.path), message: p.message });
    } else {
      plans.push({ plan: r.data, at: pathOf(i) });
    }
  });
  if (problems.length > 0) throw new InvalidInputError(`Invalid plan ${file}`, problems);
  const candidates = pipeline === undefined ? plans : plans.filter((p) => p.plan.pipeline === pipeline);
  if (candidates.length !== 1) {
    const names = plans.map((p) => p.plan.pipeline).join(', ');
    const why = pipeline === undefined
      ? `holds ${plans.length} plans (${names}) — name one with --pipeline`
      : `has no plan for pipeline "${pipeline}" (it has: ${names || 'none'})`;
    throw new InvalidInputError(`Invalid plan ${file}`, [{ path: '', message: why }]);
  }
  const { plan, at } = candidates[0] as { plan: z.output<typeof planSchema>; at: string };
  const spec = config.pipelines.find((p) => p.name === plan.pipeline);
  if (!spec) {
    throw new InvalidInputError(`Plan ${file} does not match ${config.source}`, [{
      path: join(at, 'pipeline'), message: `"${plan.pipeline}" is not a pipeline of the config (it has: ${config.pipelines.map((p) => p.name).join(', ')})`,
    }]);
  }
  const profiles = new ProfileSet(config.profiles);
  const mismatch: Problem[] = [];
  // A plan made for another SLO is not a plan for this one: its replicas were sized for that.
  if (plan.sloMs !== undefined && plan.sloMs !== spec.slo.latencyMs) {
    mismatch.push({ path: join(at, 'sloMs'), message: `${plan.sloMs} — the config's SLO of "${spec.name}" is ${spec.slo.latencyMs} ms: re-plan with \`inferline plan --out\`` });
  }
  if (plan.percentile !== undefined && plan.percentile !== spec.slo.percentile) {
    mismatch.push({ path: join(at, 'percentile'), message: `${plan.percentile} — the config's SLO of "${spec.name}" is P${spec.slo.percentile}: re-plan with \`inferline plan --out\`` });
  }
  for (const s of spec.stages) {
    const c = plan.stages[s.name];
    const where = join(at, `stages.${s.name}`);
    if (!c) {
      mismatch.push({ path: where, message: `missing: the pipeline has stage "${s.name}"` });
      continue;
    }
    if (!s.hardware.includes(c.hardware)) {
      mismatch.push({ path: `${where}.hardware`, message: `"${c.hardware}" — must be one of the stage's hardware: ${s.hardware.join(', ')}` });
      continue;
    }
    // The planner's own bound (core/planner/context.ts): the stage's maxReplicas within the planner's.
    const maxReplicas = Math.min(s.maxReplicas ?? Infinity, config.planner.maxReplicasPerStage);
    if (c.replicas > maxReplicas) {
      const bound = maxReplicas === s.maxReplicas ? `the stage's maxReplicas` : 'planner.maxReplicasPerStage';
      mismatch.push({ path: `${where}.replicas`, message: `${c.replicas} — must be ≤ ${maxReplicas} (${bound} in ${config.source})` });
    }
    if (s.minReplicas !== undefined && c.replicas < s.minReplicas) {
      mismatch.push({ path: `${where}.replicas`, message: `${c.replicas} — must be ≥ ${s.minReplicas} (the stage's minReplicas in ${config.source})` });
    }
    if (s.maxBatch !== undefined && c.batchSize > s.maxBatch) {
      mismatch.push({ path: `${where}.batchSize`, message: `${c.batchSize} — must be ≤ ${s.maxBatch} (the stage's maxBatch in ${config.source})` });
    }
    if (c.batchDelayMs !== undefined && !isApplicableDelay(s.server, c.batchDelayMs)) {
      mismatch.push({ path: `${where}.batchDelayMs`, message: `${c.batchDelayMs} — must be whole ${s.server === 'torchserve' ? 'milliseconds' : 'microseconds'}: the stage is served by ${s.server ?? 'triton'} (${config.source}), which can be given no finer delay` });
    }
    const curve = profiles.get(s.model, c.hardware);
    if (!curve) mismatch.push({ path: `${where}.hardware`, message: `no profile for model "${s.model}" on "${c.hardware}"` });
    else if (c.batchSize > curve.maxBatch) {
      mismatch.push({ path: `${where}.batchSize`, message: `${c.batchSize} — must be ≤ ${curve.maxBatch}, the largest measured batch of ${s.model} on ${c.hardware}` });
    }
  }
  for (const name of Object.keys(plan.stages)) {
    if (!spec.stages.some((s) => s.name === name)) mismatch.push({ path: join(at, `stages.${name}`), message: `not a stage of pipeline "${spec.name}"` });
  }
  (plan.scaling ?? []).forEach((point, i) => {
    for (const name of Object.keys(point.replicas)) {
      if (!spec.stages.some((s) => s.name === name)) mismatch.push({ path: join(at, `scaling[${i}].replicas.${name}`), message: `not a stage of pipeline "${spec.name}"` });
    }
  });
  if (mismatch.length > 0) throw new InvalidInputError(`Plan ${file} does not match ${config.source}`, mismatch);
  const longest = plan.envelope[plan.envelope.length - 1] as EnvelopePoint;
  return {
    pipeline: plan.pipeline,
    stages: plan.stages,
    envelope: plan.envelope,
    plannedRateQps: plan.workload?.meanRateQps ?? longest.rateQps,
    slack: plan.slack ?? 1,
    ...(plan.scaling !== undefined ? { scaling: plan.scaling } : {}),
    ...(plan.workload?.source !== undefined ? { workload: plan.workload.source } : {}),
    ...(plan.seed !== undefined ? { seed: plan.seed } : {}),
  };
}

function join(a: string, b: string): string {
  if (a === '') return b;
  if (b === '') return a;
  return b.startsWith('[') ? `${a}${b}` : `${a}.${b}`;
}
