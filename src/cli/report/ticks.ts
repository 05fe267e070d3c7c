// Axis tick values: "nice" 1-2-5 steps on linear axes, decades (with 2 and 5 when few) on log axes.

/** The smallest 1-2-5 step (…, 0.5, 1, 2, 5, 10, …) at least `raw`. */
export function niceStep(raw: number): number {
  if (!(raw > 0) || !Number.isFinite(raw)) return 1;
  const exp = Math.floor(Math.log10(raw));
  const magnitude = 10 ** exp;
  const f = raw / magnitude;
  // 1e-9 absorbs log10/pow rounding, so an exact 2 × 10^k stays 2 rather than becoming 5.
  const nf = f <= 1 + 1e-9 ? 1 : f <= 2 + 1e-9 ? 2 : f <= 5 + 1e-9 ? 5 : 10;
  return roundTo(nf * magnitude, decimalsOf(nf * magnitude));
}

/** Decimal places that print every multiple of `step` exactly (0 for steps ≥ 1). */
export function decimalsOf(step: number): number {
  if (!(step > 0) || !Number.isFinite(step)) return 0;
  return Math.min(12, Math.max(0, -Math.floor(Math.log10(step) + 1e-9)));
}

/**
 * Ticks on a 1-2-5 step covering [min, max] (the first tick ≤ min, the last ≥ max), about
 * `target` intervals. `integer` keeps the step at 1 or more, for counts such as replicas.
 */
export function niceTicks(min: number, max: number, target = 5, integer = false): number[] {
  let lo = Number.isFinite(min) ? min : 0;
  let hi = Number.isFinite(max) ? max : lo + 1;
  if (hi < lo) [lo, hi] = [hi, lo];
  if (hi === lo) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  let step = niceStep((hi - lo) / Math.max(1, target));
  if (integer) step = Math.max(1, step);
  const decimals = decimalsOf(step);
  const first = Math.floor(lo / step + 1e-9);
  const last = Math.ceil(hi / step - 1e-9);
  const ticks: number[] = [];
  for (let k = first; k <= last; k++) ticks.push(roundTo(k * step, decimals));
  return ticks;
}

/**
 * Ticks for a log axis over [min, max] (both > 0): powers of ten covering the range, with 2× and
 * 5× in between when it spans two decades or less, and every other decade when it spans many.
 */
export function logTicks(min: number, max: number): number[] {
  const lo = min > 0 && Number.isFinite(min) ? min : 1;
  const hi = max > lo && Number.isFinite(max) ? max : lo * 10;
  const e0 = Math.floor(Math.log10(lo) + 1e-9);
  const top = Math.max(e0 + 1, Math.ceil(Math.log10(hi) - 1e-9));
  const decades = top - e0;
  const multiples = decades <= 2 ? [1, 2, 5] : [1];
  const every = Math.max(1, Math.ceil(decades / 8));
  const e1 = e0 + Math.ceil(decades / every) * every;
  const ticks: number[] = [];
  for (let e = e0; e <= e1; e += every) {
    for (const m of multiples) {
      const v = Number((m * 10 ** e).toPrecision(12));
      if (e === e1 && m > 1) break;
      ticks.push(v);
    }
  }
  return ticks;
}

function roundTo(value: number, decimals: number): number {
  const v = Number(value.toFixed(decimals));
  return v === 0 ? 0 : v; // no "-0" labels
}
