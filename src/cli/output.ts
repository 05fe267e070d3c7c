// Output helpers shared by commands: JSON on stdout for --json, aligned text tables otherwise.

/** Where a command writes. Text is written as given: callers end their lines with "\n". */
export interface Output {
  out(text: string): void;
  err(text: string): void;
}

export const processOutput: Output = {
  out: (text) => { process.stdout.write(text); },
  err: (text) => { process.stderr.write(text); },
};

export function printJson(output: Output, value: unknown): void {
  output.out(`${JSON.stringify(value, null, 2)}\n`);
}

/** Renders rows as a left-aligned table; numbers right-aligned. */
export function table(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = [header, ...rows.map((r) => r.map((c) => String(c)))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const numeric = header.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number'));
  return cells
    .map((r) => r.map((c, i) => (numeric[i] ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number))).join('  ').trimEnd())
    .join('\n');
}

export function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return '∞';
  return ms >= 100 ? `${ms.toFixed(0)} ms` : `${ms.toFixed(1)} ms`;
}

export function fmtCost(c: number): string {
  return `$${c.toFixed(3)}/h`;
}

export function fmtPct(x: number): string {
  return `${(x * 100).toFixed(2)}%`;
}
