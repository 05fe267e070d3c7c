// Progress for long commands, on stderr (stdout stays for the result and --json): a bar redrawn
// in place on a terminal, plain lines otherwise (logs, CI, pipes), or nothing.
import type { Output } from './output.js';

export type ProgressStyle = 'bar' | 'lines' | 'none';
export const PROGRESS_STYLES = ['auto', 'bar', 'lines', 'none'] as const;

export interface Progress {
  /** Where the work stands: done of total units, and what runs now. Drawn only as a bar. */
  update(done: number, total: number, label: string): void;
  /** A line worth keeping (a finished step): printed in every style but none. */
  line(text: string): void;
  /** Clears the bar. */
  end(): void;
}

const BAR_WIDTH = 24;

export function createProgress(output: Output, style: ProgressStyle): Progress {
  if (style === 'none') return { update: () => undefined, line: () => undefined, end: () => undefined };
  if (style === 'lines') return { update: () => undefined, line: (text) => output.err(`${text}\n`), end: () => undefined };
  let drawn = '';
  const clear = (): void => {
    if (drawn !== '') output.err('\r\x1b[2K');
    drawn = '';
  };
  return {
    update: (done, total, label) => {
      const frac = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
      const full = Math.round(frac * BAR_WIDTH);
      const text = `[${'#'.repeat(full)}${'-'.repeat(BAR_WIDTH - full)}] ${String(Math.round(frac * 100)).padStart(3)}%  ${label}`;
      if (text === drawn) return;
      clear();
      output.err(text);
      drawn = text;
    },
    line: (text) => {
      const again = drawn;
      clear();
      output.err(`${text}\n`);
      if (again !== '') {
        output.err(again);
        drawn = again;
      }
    },
    end: clear,
  };
}
