// `inferline profile`'s results: the --json report (per hardware, per point), built from the
// active or passive runner's result, its human view, and the HTML report's input.
import { activeProfile, batchingKnee, hopOverheadCurve, hopOverheadMs, isoTime, passiveProfile, pointLatencyMs } from '../../../core/profiler/index.js';
import type { PointResult } from '../../../core/profiler/index.js';
import type { ProfileOptions } from '../../../core/model/profiles.js';
import type { HopOverheadPoint } from '../../../core/model/types.js';
import type { DeviceKind, ServerKind } from '../../../ports/server-adapter.js';
import type { ActiveProfileResult, PassiveProfileResult, ProfileFileUpdate, RestoreOutcome } from '../../../runtime/profiler/index.js';
import { fmtMs, table } from '../../output.js';
import type { ProfileReport } from '../../report/index.js';

/** One point in the output; null where not measured. */
export interface PointReport {
  readonly batchSize: number;
  /** Active: stable | unstable | cut | failed. Passive: stable | few-samples. */
  readonly status: string;
  /** What the profile table records: computeLatencyMs where the server reports timings, else clientLatencyMs. */
  readonly latencyMs: number | null;
  readonly computeLatencyMs: number | null;
  readonly queueLatencyMs: number | null;
  /** Where computeLatencyMs comes from: batch-stats (Triton, exactly this size), per-request (counters), or null. */
  readonly timing: 'batch-stats' | 'per-request' | null;
  readonly clientLatencyMs: number | null;
  readonly p99LatencyMs: number | null;
  /** Items per second per replica. */
  readonly throughputQps: number | null;
  /** Measurement windows (active; 0 for passive). */
  readonly windows: number;
  /** Batches measured (active: in the last three windows; passive: executions). */
  readonly samples: number;
  /** max/min − 1 of the last three windows (active; null inside when a window was empty; compute null without server timings). */
  readonly spread: { readonly latency: number | null; readonly throughput: number | null; readonly compute: number | null } | null;
  readonly measuredAt: string;
  readonly error: string | null;
}

export interface HardwareReport {
  readonly hardware: string;
  readonly device: DeviceKind;
  /** The instance kind was switched for it (Triton). */
  readonly switched: boolean;
  readonly replicas: number;
  readonly batchSizes: readonly number[];
  /** Active: the time budget; passive: null. */
  readonly budgetMs: number | null;
  readonly wallMs: number;
  /** The smallest batch size after which the next one adds less than 10 % throughput per replica. */
  readonly knee: number | null;
  /** The fixed cost of one request there and back (client median − server queue − compute, at the smallest batch); null without server timings. */
  readonly hopOverheadMs: number | null;
  /** The hop overhead by requests in flight, where measured at more than one concurrency. */
  readonly hopOverheadCurve: readonly HopOverheadPoint[] | null;
  readonly points: readonly PointReport[];
  readonly error: string | null;
}

/** The --json output. */
export interface ProfileCommandReport {
  readonly mode: 'active' | 'passive';
  readonly server: ServerKind;
  readonly endpoint: string;
  readonly model: string;
  readonly startedAt: string;
  readonly wallMs: number;
  readonly hardware: readonly HardwareReport[];
  /** Active: whether what was changed (the instance kind) was put back; null in passive mode. */
  readonly restore: RestoreOutcome | null;
  readonly interrupted: boolean;
  readonly warnings: readonly string[];
  /** The measured profile table, in the planner's format (what --out merges). */
  readonly profiles: readonly ProfileOptions[];
  readonly out: ProfileFileUpdate | null;
  readonly report: string | null;
}

export function activeReport(r: ActiveProfileResult, model: string): Omit<ProfileCommandReport, 'out' | 'report'> {
  const profiles = r.hardware.map((h) => activeProfile(model, h.hardware, h.points, h.hopPoints)).filter((p): p is ProfileOptions => p !== undefined);
  return {
    mode: 'active',
    server: r.server,
    endpoint: r.endpoint,
    model,
    startedAt: isoTime(r.startedAtMs),
    wallMs: Math.round(r.wallMs),
    hardware: r.hardware.map((h): HardwareReport => {
      const points = h.points.map(activePointReport);
      return {
        hardware: h.hardware, device: h.device, switched: h.switched, replicas: h.replicas, batchSizes: h.batchSizes,
        budgetMs: h.budgetMs, wallMs: Math.round(h.wallMs), knee: kneeOf(points), hopOverheadMs: hopOverheadMs(h.points) ?? null,
        hopOverheadCurve: hopOverheadCurve(h.points, h.hopPoints) ?? null, points, error: h.error ?? null,
      };
    }),
    restore: r.restore,
    interrupted: r.interrupted,
    warnings: r.warnings,
    profiles,
  };
}

function activePointReport(p: PointResult): PointReport {
  const r = (v: number | undefined): number | null => (v === undefined || !Number.isFinite(v) ? null : Number(v.toPrecision(6)));
  return {
    batchSize: p.batchSize,
    status: p.status,
    latencyMs: p.status === 'failed' ? null : r(pointLatencyMs(p)),
    computeLatencyMs: r(p.server?.computeMs),
    queueLatencyMs: r(p.server?.queueMs),
    timing: p.server?.basis ?? null,
    clientLatencyMs: r(p.clientP50Ms),
    p99LatencyMs: r(p.clientP99Ms),
    throughputQps: r(p.throughputQps),
    windows: p.windows,
    samples: p.samples,
    spread: p.spread === undefined ? null : { latency: r(p.spread.latency), throughput: r(p.spread.throughput), compute: r(p.spread.compute) },
    measuredAt: isoTime(p.measuredAtMs),
    error: p.error ?? null,
  };
}

export function passiveReport(r: PassiveProfileResult, device: DeviceKind): Omit<ProfileCommandReport, 'out' | 'report'> {
  const measuredAtMs = r.startedAtMs + r.observedMs;
  const profile = passiveProfile(r.model, r.hardware, r.points, measuredAtMs);
  const points = r.points.map((p): PointReport => ({
    batchSize: p.batchSize,
    status: p.enough ? 'stable' : 'few-samples',
    latencyMs: Number(p.computeMs.toPrecision(6)),
    computeLatencyMs: Number(p.computeMs.toPrecision(6)),
    queueLatencyMs: null,
    timing: 'batch-stats',
    clientLatencyMs: null,
    p99LatencyMs: null,
    throughputQps: Number(((p.batchSize * 1000) / p.computeMs).toPrecision(6)),
    windows: 0,
    samples: p.samples,
    spread: null,
    measuredAt: isoTime(measuredAtMs),
    error: null,
  }));
  return {
    mode: 'passive',
    server: r.server,
    endpoint: r.endpoint,
    model: r.model,
    startedAt: isoTime(r.startedAtMs),
    wallMs: Math.round(r.observedMs),
    hardware: [{
      hardware: r.hardware, device, switched: false, replicas: 0, batchSizes: r.points.map((p) => p.batchSize), budgetMs: null,
      wallMs: Math.round(r.observedMs), knee: kneeOf(points), hopOverheadMs: null, hopOverheadCurve: null, points, error: null,
    }],
    restore: null,
    interrupted: r.interrupted,
    warnings: r.warnings,
    profiles: profile === undefined ? [] : [profile],
  };
}

function kneeOf(points: readonly PointReport[]): number | null {
  const usable = points.filter((p) => p.throughputQps !== null && p.status !== 'failed') as (PointReport & { throughputQps: number })[];
  return batchingKnee(usable) ?? null;
}

// ---- human output ----

export function formatProfile(r: ProfileCommandReport): string {
  const lines = [`profile ${r.model} on ${r.server} ${r.endpoint} — ${r.mode}, ${(r.wallMs / 1000).toFixed(1)} s${r.interrupted ? ', INTERRUPTED' : ''}`];
  const opt = (v: number | null, f: (n: number) => string): string => (v === null ? '—' : f(v));
  for (const h of r.hardware) {
    const how = r.mode === 'passive' ? 'observed' : `${h.replicas} replica${h.replicas === 1 ? '' : 's'}${h.switched ? `, switched to KIND_${h.device.toUpperCase()}` : ''}`;
    lines.push('', `${h.hardware} (${h.device}; ${how})`);
    if (h.error !== null) lines.push(`  ${h.error}`);
    if (h.points.length > 0) {
      const body = table(
        ['batch', 'latency', 'compute', 'queue', 'client P50', 'client P99', 'items/s/replica', 'windows', 'batches', 'status'],
        h.points.map((p) => [
          p.batchSize, opt(p.latencyMs, fmtMs), opt(p.computeLatencyMs, fmtMs), opt(p.queueLatencyMs, fmtMs), opt(p.clientLatencyMs, fmtMs),
          opt(p.p99LatencyMs, fmtMs), opt(p.throughputQps, (n) => n.toFixed(1)), p.windows, p.samples, p.status + (p.error !== null ? `: ${p.error}` : ''),
        ]),
      );
      lines.push(...body.split('\n').map((l) => `  ${l}`));
      const timing = h.points.find((p) => p.timing !== null)?.timing ?? null;
      lines.push(`  latency = ${timing === 'batch-stats' ? 'the server\'s compute time per batch (per-batch-size statistics)'
        : timing === 'per-request' ? 'the server\'s compute time per batch (its counters, queueing excluded)' : 'the client-observed median (the server reports no timings)'}`);
      if (h.knee !== null) lines.push(`  batching stops paying after batch ${h.knee}: the next size adds less than 10 % throughput per replica`);
      if (h.hopOverheadMs !== null) lines.push(`  hop overhead ${fmtMs(h.hopOverheadMs)} per request (client median − server queue − compute): the estimator adds it to every visit`);
      if (h.hopOverheadCurve !== null) {
        lines.push(`  hop overhead by requests in flight: ${h.hopOverheadCurve.map((c) => `${c.inFlight}: ${fmtMs(c.hopOverheadMs)}`).join(', ')} (the estimator interpolates by the requests in flight at the stage)`);
      }
    }
  }
  lines.push('');
  if (r.restore !== null && r.restore.needed) {
    lines.push(r.restore.ok ? `restored the original config of ${r.model}` : `FAILED TO RESTORE the original config of ${r.model}: ${r.restore.detail ?? ''}`);
  }
  if (r.out !== null) {
    lines.push(`${r.out.merged ? 'merged into' : 'wrote'} ${r.out.file}: ${r.out.written} point${r.out.written === 1 ? '' : 's'} written, ${r.out.profiles} profile${r.out.profiles === 1 ? '' : 's'} in the file`);
  }
  if (r.report !== null) lines.push(`report: ${r.report}`);
  if (r.warnings.length > 0) lines.push('warnings:', ...r.warnings.map((w) => `  - ${w}`));
  return `${lines.join('\n').replace(/\n+$/, '')}\n`;
}

export function htmlReport(r: Omit<ProfileCommandReport, 'out' | 'report'>): ProfileReport {
  const u = (v: number | null): number | undefined => v ?? undefined;
  return {
    title: `Profile of ${r.model}`,
    model: r.model,
    server: `${r.server} ${r.endpoint}`,
    mode: r.mode,
    measuredAt: r.startedAt,
    generatedBy: `inferline profile ${process.argv.slice(3).join(' ')}`.trim(),
    hardware: r.hardware.map((h) => ({
      name: h.hardware,
      device: `${h.device}${h.switched ? ` (switched to KIND_${h.device.toUpperCase()})` : ''}`,
      points: h.points.map((p) => ({
        batchSize: p.batchSize, status: p.status, samples: p.samples,
        ...defined({ latencyMs: u(p.latencyMs), computeMs: u(p.computeLatencyMs), queueMs: u(p.queueLatencyMs), clientP50Ms: u(p.clientLatencyMs), clientP99Ms: u(p.p99LatencyMs), throughputQps: u(p.throughputQps), note: p.error ?? undefined }),
      })),
      ...(h.error !== null ? { note: h.error } : h.knee !== null ? { note: `Batching stops paying after batch ${h.knee}: the next size adds less than 10 % throughput per replica.` } : {}),
    })),
    notes: r.warnings,
  };
}

function defined<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
