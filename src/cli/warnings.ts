// Warnings: what an input allows but deserves a look. Printed on stderr, one per line, naming the
// file and the path like errors do; the command goes on and its exit status is unchanged.
import type { Problem } from '../core/errors.js';
import type { Output } from './output.js';

/** Writes `inferline: warning: FILE: path: message` for each warning. */
export function printWarnings(output: Output, file: string, warnings: readonly Problem[] | undefined): void {
  for (const w of warnings ?? []) output.err(`inferline: warning: ${file}: ${w.path ? `${w.path}: ` : ''}${w.message}\n`);
}
