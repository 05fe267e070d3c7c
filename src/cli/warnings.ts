// Warnings: what an input allows but deserves a look. Printed on stderr, one per line, naming the
// file and the path like errors do; the command goes on and its exit status is unchanged.
import type { Problem } from '../core/model/errors.js';
import type { Output } from './output.js';

/** Writes `inferline: warning: FILE: path: message` for each warning. */
export function printWarnings(output: Output, file: string, warnings: readonly Problem[] | undefined): void {
  for (const w of warnings ?? []) output.err(`inferline: warning: ${file}: ${w.path ? `${w.path}: ` : ''}${w.message}\n`);
}

/** Above this many arrivals a plan takes tens of seconds: say so before the silence. */
const LONG_PLAN_ARRIVALS = 250_000;
/** Above this span the closed loop takes tens of seconds per controller. */
const LONG_SIMULATION_MS = 2 * 3_600_000;

/** A note on stderr when the work ahead is long (bounded, but long enough to look like a hang). */
export function noteLongWork(output: Output, what: 'plan' | 'simulate', trace: Float64Array, controllers = 1): void {
  const n = trace.length;
  const spanMs = n < 2 ? 0 : ((trace[n - 1] as number) - (trace[0] as number)) * 1000;
  if (what === 'plan' && n > LONG_PLAN_ARRIVALS) {
    output.err(`inferline: planning on ${n} arrivals: this may take a minute\n`);
  } else if (what === 'simulate' && spanMs > LONG_SIMULATION_MS) {
    output.err(`inferline: simulating ${(spanMs / 3_600_000).toFixed(1)} h of traffic with ${controllers} controller${controllers === 1 ? '' : 's'}, a tick a second: this may take a minute${controllers === 1 ? '' : ' per controller'}\n`);
  }
}
