// `inferline profile`'s progress: the runner's events as a bar (points done of all points) and lines.
import { formatDurationMs } from '../../../core/model/duration.js';
import type { PointResult } from '../../../core/profiler/index.js';
import type { ProfileEvent } from '../../../runtime/profiler/index.js';
import { fmtMs } from '../../output.js';
import type { Progress } from '../../progress.js';

/** Turns the runner's events into a bar (points done of all points) and lines. */
export class SweepProgress {
  private done = 0;
  private total = 0;
  private readonly announced = new Set<string>();

  constructor(private readonly progress: Progress, private readonly model: string) {}

  on(e: ProfileEvent): void {
    const p = this.progress;
    switch (e.kind) {
      case 'traffic-check':
        p.update(0, 1, `checking ${this.model}'s server for live traffic (${formatDurationMs(e.windowMs)})`);
        break;
      case 'switch':
        p.line(`${e.hardware}: switching ${this.model} to KIND_${e.device.toUpperCase()} instances`);
        break;
      case 'hardware':
        if (!this.announced.has(e.hardware)) {
          this.announced.add(e.hardware);
          this.total += e.batchSizes.length;
        }
        p.line(`${e.hardware}: sweeping batch ${e.batchSizes.join(', ')} with ${e.replicas} replica${e.replicas === 1 ? '' : 's'} on ${e.device}`);
        break;
      case 'hardware-failed':
        p.line(`${e.hardware}: ${e.error}`);
        break;
      case 'point':
        p.update(this.done, Math.max(1, this.total), `${e.hardware} batch ${e.batchSize}: ${e.phase === 'warm-up' ? 'warm-up' : `window ${e.windows + 1}`}`);
        break;
      case 'point-done':
        this.done++;
        p.line(`${e.hardware} batch ${e.point.batchSize}: ${describePoint(e.point)}`);
        p.update(this.done, Math.max(1, this.total), `${e.hardware}: ${this.done}/${this.total} points`);
        break;
      case 'restoring':
        p.update(this.done, Math.max(1, this.total), `restoring ${this.model}'s original config`);
        break;
      case 'restored':
        p.line(e.outcome.ok ? `restored ${this.model}'s original config` : `RESTORING ${this.model}'s ORIGINAL CONFIG FAILED: ${e.outcome.detail ?? ''}`);
        break;
    }
  }
}

function describePoint(p: PointResult): string {
  if (p.status === 'failed') return `failed: ${p.error ?? 'unknown error'}`;
  if (p.clientP50Ms === undefined) return `${p.status} before its first window`;
  const parts = [
    p.server !== undefined ? `compute ${fmtMs(p.server.computeMs)}` : undefined,
    `client P50 ${fmtMs(p.clientP50Ms)}`,
    p.clientP99Ms !== undefined ? `P99 ${fmtMs(p.clientP99Ms)}` : undefined,
    p.throughputQps !== undefined ? `${p.throughputQps.toFixed(1)} items/s per replica` : undefined,
  ].filter((s): s is string => s !== undefined);
  return `${parts.join(', ')} — ${p.status} after ${p.windows} window${p.windows === 1 ? '' : 's'} (${p.samples} batches)`;
}

