// How each server writes numbers in its text formats, so the emulators' bodies read like theirs:
// C's %g (Abseil's StrCat of a double, TF Serving), Java's Double.toString (the Prometheus Java
// client behind TorchServe) and TF Serving's float JSON values.

/** C printf `%.<precision>g`: the shortest of fixed or exponent form, trailing zeros removed. */
export function formatG(x: number, precision = 6): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const p = Math.max(1, precision);
  const exp = x.toExponential(p - 1);
  const e = Number(exp.slice(exp.indexOf('e') + 1));
  if (e < -4 || e >= p) {
    const [mantissa = '', power = ''] = exp.split('e');
    const sign = power.startsWith('-') ? '-' : '+';
    const digits = power.replace(/^[+-]/, '').padStart(2, '0');
    return `${stripZeros(mantissa)}e${sign}${digits}`;
  }
  return stripZeros(x.toFixed(Math.max(0, p - 1 - e)));
}

function stripZeros(s: string): string {
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

/** Java's Double.toString, as the Prometheus Java client prints sample values (NaN, +Inf, -Inf). */
export function javaDouble(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const abs = Math.abs(x);
  if (abs >= 1e-3 && abs < 1e7) {
    const s = String(x);
    return s.includes('.') ? s : `${s}.0`;
  }
  const [mantissa = '', power = ''] = x.toExponential().split('e');
  return `${mantissa.includes('.') ? mantissa : `${mantissa}.0`}E${Number(power)}`;
}

/**
 * A float tensor value as TF Serving writes it (json_tensor.cc WriteDecimal): six significant
 * digits, full float precision when those do not round-trip, ".0" on whole numbers, and bare
 * NaN / Infinity / -Infinity.
 */
export function tfFloat(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
  const f = Math.fround(x);
  let s = formatG(f, 6);
  if (Math.fround(Number(s)) !== f) s = formatG(f, 9);
  if (!s.includes('.') && !s.includes('e')) s += '.0';
  return s;
}
