// Arrival traces: a Float64Array of arrival times in seconds, non-decreasing, each ≥ 0.
// Files come in two shapes: one time per line, or CSV with a header naming the time column.
// Parsing reports every problem (up to a limit) with its line, so a bad file is fixed in one go.
import { InvalidInputError } from '../model/errors.js';
import type { Problem } from '../model/errors.js';
import { MAX_TRACE_GAP_MS, MAX_WORKLOAD_ARRIVALS, MAX_WORKLOAD_SPAN_MS } from '../model/limits.js';

/** Column names accepted as the arrival time in a CSV trace (compared case-insensitively). */
export const TIME_COLUMNS: readonly string[] = ['time', 'timestamp', 'arrival', 'arrival_time', 't'];

/** How many problems a parse error lists before summarising the rest as "… and N more". */
export const MAX_REPORTED_PROBLEMS = 10;

// Strict decimal: Number() alone would accept "", "0x10", "1_0"-like junk or whitespace as 0.
const DECIMAL_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const NON_FINITE_RE = /^[+-]?(?:nan|inf|infinity)$/i;

/**
 * Reads a strict decimal number ("12", "-0.5", "1e-3"). Returns the value (possibly ±Infinity
 * for "inf" or an overflowing literal, NaN for "nan"), or undefined when the text is not a number.
 */
export function parseDecimal(text: string): number | undefined {
  if (DECIMAL_RE.test(text)) return Number(text);
  if (!NON_FINITE_RE.test(text)) return undefined;
  if (/nan$/i.test(text)) return NaN;
  return text.startsWith('-') ? -Infinity : Infinity;
}

/** Longest token quoted whole in a message; longer ones are cut. */
const MAX_TOKEN_CHARS = 40;

/** Index of the first control character other than tab, LF and CR (a file holding one is not text), or -1. */
function firstControl(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 32 && c !== 9 && c !== 10 && c !== 13) || c === 127) return i;
  }
  return -1;
}

/** A token as a message quotes it: cut to MAX_TOKEN_CHARS. */
function quote(token: string): string {
  return token.length > MAX_TOKEN_CHARS ? `${token.slice(0, MAX_TOKEN_CHARS - 1)}…` : token;
}

function formatSeconds(s: number): string {
  return s >= 3600 ? `${+(s / 3600).toFixed(1)} h` : `${+s.toFixed(3)} s`;
}

/** Collects problems up to a limit and counts the rest. */
class ProblemList {
  readonly shown: Problem[] = [];
  private more = 0;

  add(path: string, message: string): void {
    if (this.shown.length < MAX_REPORTED_PROBLEMS) this.shown.push({ path, message });
    else this.more++;
  }

  get empty(): boolean {
    return this.shown.length === 0;
  }

  all(): Problem[] {
    return this.more > 0 ? [...this.shown, { path: '', message: `… and ${this.more} more` }] : this.shown;
  }
}

/** Splits one CSV line into trimmed, unquoted fields; quotes may protect commas ("a,b"). */
function splitCsv(line: string): string[] {
  if (!line.includes('"')) return line.split(',').map((f) => f.trim());
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] as string;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') { field += '"'; i++; }
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') { out.push(field.trim()); field = ''; }
    else field += ch;
  }
  out.push(field.trim());
  return out;
}

function isComment(trimmed: string): boolean {
  return trimmed === '' || trimmed.startsWith('#');
}

/**
 * A first line is a CSV header when it has a comma or starts like a word ("time"); "inf" and
 * "nan" start like words but are values, reported as not finite.
 */
function looksLikeHeader(trimmed: string): boolean {
  if (trimmed.includes(',')) return true;
  return /^["A-Za-z_]/.test(trimmed) && !NON_FINITE_RE.test(trimmed);
}

/**
 * Parses a trace file's text. `source` (a file name, or "stdin") names the trace in errors.
 * Accepts one arrival time in seconds per line (blank lines and `#` comments ignored, also after
 * a value), or CSV with a header row whose time column is one of TIME_COLUMNS; other columns are
 * ignored. Throws InvalidInputError listing problems by line: not a number, not finite, negative,
 * out of order (both values named), a CSV row whose column count differs from the header's, and
 * a trace no planner can use: binary data, fewer than two arrivals (no rate), more than
 * MAX_WORKLOAD_ARRIVALS, a span over MAX_WORKLOAD_SPAN_MS or a gap over MAX_TRACE_GAP_MS.
 */
export function parseTrace(text: string, source: string): Float64Array {
  const control = firstControl(text);
  if (control >= 0) {
    throw new InvalidInputError(`Invalid trace ${source}`, [{
      path: `line ${countLines(text, control)}`,
      message: `holds binary data (byte 0x${text.charCodeAt(control).toString(16).padStart(2, '0')}): a trace is text, one arrival time in seconds per line, or CSV with a time column`,
    }]);
  }
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
  const problems = new ProblemList();
  const values: number[] = [];
  let column = -1; // -1: one value per line; otherwise the CSV column index of the time
  let columnName = '';
  let columnCount = 0;
  let firstValue = NaN;
  let first = true;
  let prev = -Infinity;
  let prevText = '';
  let prevLine = 0;

  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] as string;
    const trimmed = raw.trim();
    if (isComment(trimmed)) continue;
    const lineNo = i + 1;
    const path = `line ${lineNo}`;

    if (first) {
      first = false;
      if (looksLikeHeader(trimmed)) {
        const names = splitCsv(trimmed);
        const matches = names.flatMap((n, idx) => (TIME_COLUMNS.includes(n.toLowerCase()) ? [idx] : []));
        if (matches.length === 1) {
          column = matches[0] as number;
          columnName = names[column] as string;
          columnCount = names.length;
          continue;
        }
        const message = matches.length === 0
          ? `CSV header has no time column (columns: ${names.map((n) => `"${n}"`).join(', ')}); name one of ${TIME_COLUMNS.join(', ')}`
          : `CSV header names more than one time column (${matches.map((m) => `"${names[m]}"`).join(', ')}); keep one`;
        throw new InvalidInputError(`Invalid trace ${source}`, [{ path, message }]);
      }
    }

    let token: string;
    if (column < 0) {
      const hash = trimmed.indexOf('#');
      token = (hash >= 0 ? trimmed.slice(0, hash) : trimmed).trim();
    } else {
      const fields = splitCsv(raw);
      if (fields.length <= column) {
        problems.add(path, `has ${fields.length} column(s); the time column "${columnName}" is column ${column + 1}`);
        continue;
      }
      if (fields.length !== columnCount) {
        problems.add(path, `has ${fields.length} columns but the header has ${columnCount}: every row needs one field per column (quote a field that holds a comma)`);
        continue;
      }
      token = fields[column] as string;
      if (token === '') {
        problems.add(path, `the time column "${columnName}" is empty`);
        continue;
      }
    }

    const value = parseDecimal(token);
    if (value === undefined) {
      problems.add(path, `"${quote(token)}" is not a number (arrival times are seconds, e.g. 12.5)`);
      continue;
    }
    if (!Number.isFinite(value)) {
      problems.add(path, `${quote(token)} is not a finite number`);
      continue;
    }
    if (value < 0) {
      problems.add(path, `${quote(token)} is negative: arrival times must be ≥ 0`);
      continue;
    }
    if (value < prev) {
      problems.add(path, `${quote(token)} is earlier than ${quote(prevText)} on line ${prevLine}: arrival times must be non-decreasing`);
      continue;
    }
    if (values.length > 0 && (value - prev) * 1000 > MAX_TRACE_GAP_MS) {
      problems.add(path, `${quote(token)} comes ${formatSeconds(value - prev)} after ${quote(prevText)} on line ${prevLine}: gaps between arrivals must be at most ${formatSeconds(MAX_TRACE_GAP_MS / 1000)} (split the trace at the gap, or cut the idle stretch out)`);
      prev = value;
      prevText = token;
      prevLine = lineNo;
      continue;
    }
    if (values.length === 0) firstValue = value;
    if ((value - firstValue) * 1000 > MAX_WORKLOAD_SPAN_MS) {
      problems.add(path, `${quote(token)} is ${formatSeconds(value - firstValue)} after the first arrival: a trace may span at most ${formatSeconds(MAX_WORKLOAD_SPAN_MS / 1000)} (split it into shorter traces)`);
      break;
    }
    if (values.length >= MAX_WORKLOAD_ARRIVALS) {
      problems.add(path, `more than ${MAX_WORKLOAD_ARRIVALS} arrivals: a trace may hold at most ${MAX_WORKLOAD_ARRIVALS} (plan on a shorter window, or sample the trace)`);
      break;
    }
    values.push(value + 0); // + 0 turns "-0" into 0
    prev = value;
    prevText = token;
    prevLine = lineNo;
  }

  if (values.length === 0 && problems.empty) {
    problems.add('', column >= 0 ? 'the trace is empty: the CSV has a header but no rows' : 'the trace is empty: no arrival times');
  } else if (values.length === 1 && problems.empty) {
    problems.add('', 'the trace has one arrival: a workload needs at least two, so that it has a rate to plan for');
  }
  if (!problems.empty) throw new InvalidInputError(`Invalid trace ${source}`, problems.all());
  return Float64Array.from(values);
}

/** The 1-based line of the character at `index`. */
function countLines(text: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) line++;
  }
  return line;
}

/** One arrival time per line, 6 decimals (microseconds), with a trailing newline; '' when empty. */
export function formatTrace(trace: Float64Array): string {
  const parts = new Array<string>(trace.length);
  for (let i = 0; i < trace.length; i++) parts[i] = (trace[i] as number).toFixed(6);
  return trace.length === 0 ? '' : `${parts.join('\n')}\n`;
}

export interface TraceStats {
  readonly count: number;
  /** Last arrival minus first, in seconds (0 for fewer than two arrivals). */
  readonly durationS: number;
  /**
   * count / durationS, in queries per second. 0 when the duration is 0 (no arrivals, one, or all
   * at one instant): no rate can be measured there, and 0 keeps the value JSON-safe.
   */
  readonly meanRateQps: number;
  /** Coefficient of variation (population std / mean) of inter-arrival times; 0 when undefined. */
  readonly interArrivalCv: number;
}

/** Count, span, mean rate and burstiness of a trace, in one pass. */
export function traceStats(trace: Float64Array): TraceStats {
  const count = trace.length;
  if (count < 2) return { count, durationS: 0, meanRateQps: 0, interArrivalCv: 0 };
  const durationS = (trace[count - 1] as number) - (trace[0] as number);
  // Welford: stable for millions of gaps without a second pass.
  let mean = 0;
  let m2 = 0;
  for (let i = 1; i < count; i++) {
    const gap = (trace[i] as number) - (trace[i - 1] as number);
    const delta = gap - mean;
    mean += delta / i;
    m2 += delta * (gap - mean);
  }
  const gaps = count - 1;
  const cv = mean > 0 ? Math.sqrt(m2 / gaps) / mean : 0;
  return { count, durationS, meanRateQps: durationS > 0 ? count / durationS : 0, interArrivalCv: cv };
}
