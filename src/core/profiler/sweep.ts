// Planning an active sweep: which batch sizes, how the time budget is shared between them, and
// what to do after each measurement window. Pure: time comes in as values.
import { isStable, DEFAULT_STABILITY } from './stability.js';
import type { StabilityCriterion, WindowSummary } from './stability.js';

/**
 * The default sweep: powers of two up to the model's max batch (the paper's), and (ours) the max
 * batch itself when it is not a power of two, since the planner caps a stage's batch at the
 * largest measured size.
 */
export function sweepBatchSizes(maxBatch: number): number[] {
  if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new RangeError(`maxBatch must be an integer ≥ 1, got ${maxBatch}`);
  const sizes: number[] = [];
  for (let b = 1; b <= maxBatch; b *= 2) sizes.push(b);
  if (sizes[sizes.length - 1] !== maxBatch) sizes.push(maxBatch);
  return sizes;
}

/** Requested sizes, ascending without duplicates, and a warning for those above the server's max batch. */
export function checkBatchSizes(requested: readonly number[], maxBatch: number): { sizes: number[]; warnings: string[] } {
  const sizes = [...new Set(requested)].sort((a, b) => a - b);
  const bad = sizes.filter((b) => !Number.isInteger(b) || b < 1);
  if (bad.length > 0) throw new RangeError(`batch sizes must be integers ≥ 1, got ${bad.join(', ')}`);
  const above = sizes.filter((b) => b > maxBatch);
  const warnings = above.length === 0 ? [] : [
    `batch ${above.join(', ')} ${above.length === 1 ? 'is' : 'are'} above the model's max batch ${maxBatch} as the server reports it: `
    + 'the server may refuse such requests (the point then fails) or split them into several batches',
  ];
  return { sizes, warnings };
}

/**
 * When the current point must end: an equal share of what is left of the budget for each point
 * still to measure, so a point that never stabilises cannot starve the ones after it, while time
 * a quick point leaves over goes to the later ones.
 */
export function pointDeadlineMs(nowMs: number, budgetEndMs: number, pointsLeft: number): number {
  if (pointsLeft < 1) return nowMs;
  return nowMs + Math.max(0, budgetEndMs - nowMs) / pointsLeft;
}

export interface PointPlan {
  /** The trials cap: the most measurement windows at one point. */
  readonly maxWindows: number;
  /** How long one window lasts at least. */
  readonly windowMs: number;
  readonly criterion?: StabilityCriterion;
}

export type PointStep =
  | { readonly kind: 'measure' }
  | { readonly kind: 'done'; readonly status: 'stable' | 'unstable' | 'cut' };

/**
 * After each window (and before the first): stop when stable, when the trials cap is reached
 * (unstable), or when another window would end past the deadline (cut); otherwise measure again.
 */
export function nextPointStep(windows: readonly WindowSummary[], nowMs: number, deadlineMs: number, plan: PointPlan): PointStep {
  const criterion = plan.criterion ?? DEFAULT_STABILITY;
  if (isStable(windows, criterion)) return { kind: 'done', status: 'stable' };
  if (windows.length >= plan.maxWindows) return { kind: 'done', status: 'unstable' };
  if (nowMs + plan.windowMs > deadlineMs) return { kind: 'done', status: 'cut' };
  return { kind: 'measure' };
}
