// Thinning long series before drawing: a browser draws 2,000 vertices as well as 200,000 on a
// 600-pixel-wide chart, and the file stays small. Min/max per bucket keeps every spike.

/** One data point: [x, y]. A non-finite x or y is a gap in the line. */
export type ChartPoint = readonly [number, number];

/** Series longer than this are decimated by `lineChart`. */
export const DEFAULT_MAX_POINTS = 2000;

/**
 * Keeps at most about `maxPoints` points, in order: the first and the last, and in each of
 * (maxPoints − 2) / 2 equal index buckets the points of lowest and highest y (the first of ties).
 * A bucket that holds a gap (non-finite x or y) also keeps its first gap, so lines still break
 * there. Deterministic; returns `points` itself when it is short enough.
 */
export function decimate(points: readonly ChartPoint[], maxPoints = DEFAULT_MAX_POINTS): readonly ChartPoint[] {
  const n = points.length;
  const limit = Math.max(4, Math.floor(maxPoints));
  if (n <= limit) return points;
  const buckets = Math.floor((limit - 2) / 2);
  const keep = new Uint8Array(n);
  keep[0] = 1;
  keep[n - 1] = 1;
  for (let b = 0; b < buckets; b++) {
    const from = Math.floor((b * n) / buckets);
    const to = Math.floor(((b + 1) * n) / buckets);
    let minI = -1;
    let maxI = -1;
    let gapI = -1;
    let minY = Infinity;
    let maxY = -Infinity;
    for (let i = from; i < to; i++) {
      const p = points[i] as ChartPoint;
      const y = p[1];
      if (!Number.isFinite(p[0]) || !Number.isFinite(y)) {
        if (gapI < 0) gapI = i;
        continue;
      }
      if (minI < 0 || y < minY) { minI = i; minY = y; }
      if (maxI < 0 || y > maxY) { maxI = i; maxY = y; }
    }
    for (const i of [minI, maxI, gapI]) if (i >= 0) keep[i] = 1;
  }
  const out: ChartPoint[] = [];
  for (let i = 0; i < n; i++) if (keep[i] === 1) out.push(points[i] as ChartPoint);
  return out;
}
