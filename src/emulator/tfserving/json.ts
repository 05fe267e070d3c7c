// TF Serving's JSON quirks: request bodies may carry bare NaN / Infinity / -Infinity (rapidjson
// with kParseNanAndInfFlag), and responses are written by rapidjson's PrettyWriter (four-space
// indent; each prediction on one line, the closing bracket on the next) or by protobuf's JSON
// printer (one-space indent).
import { tfFloat } from '../common/number-format.js';

export type ParsedJson = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly message: string };

const NON_FINITE: Readonly<Record<string, number>> = { NaN: Number.NaN, Infinity: Infinity, '-Infinity': -Infinity };
const MARK = '\u0000nonfinite:';

/** Parses a request body as TF Serving does, with its error messages. */
export function parseTfJson(text: string): ParsedJson {
  if (text.length === 0) return { ok: false, message: 'JSON Parse error: The document is empty' };
  // Bare NaN / Infinity outside strings become marked strings, then numbers again.
  let marked = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (inString) {
      marked += c;
      if (c === '\\') {
        marked += text[i + 1] ?? '';
        i++;
      } else if (c === '"') {
        inString = false;
      }
      continue;
    }
    if (c === '"') {
      inString = true;
      marked += c;
      continue;
    }
    const word = ['-Infinity', 'Infinity', 'NaN'].find((w) => text.startsWith(w, i));
    if (word) {
      marked += JSON.stringify(MARK + word);
      i += word.length - 1;
      continue;
    }
    marked += c;
  }
  try {
    return { ok: true, value: JSON.parse(marked, (_k, v: unknown) => (typeof v === 'string' && v.startsWith(MARK) ? NON_FINITE[v.slice(MARK.length)] : v)) };
  } catch (err) {
    const at = /position (\d+)/.exec(err instanceof Error ? err.message : '')?.[1] ?? '0';
    return { ok: false, message: `JSON Parse error: Invalid value. at offset: ${at}` };
  }
}

/** A tensor value on one line, as rapidjson writes it in kFormatSingleLineArray mode. */
export function singleLine(v: unknown): string {
  if (Array.isArray(v)) return v.length === 0 ? '[]' : `[${v.map(singleLine).join(', ')}]`;
  return scalar(v);
}

/** A value in rapidjson's default pretty format at an indent level. */
export function multiLine(v: unknown, level: number): string {
  if (!Array.isArray(v) || v.length === 0) return Array.isArray(v) ? '[]' : scalar(v);
  const pad = '    '.repeat(level + 1);
  return `[\n${v.map((x) => pad + multiLine(x, level + 1)).join(',\n')}\n${'    '.repeat(level)}]`;
}

/** {"predictions": [...]} for a row-format request. */
export function rowResponse(predictions: readonly unknown[]): string {
  return `{\n    "predictions": [${predictions.map(singleLine).join(', ')}\n    ]\n}`;
}

/** {"outputs": ...} for a columnar request. */
export function columnarResponse(outputs: unknown): string {
  return `{\n    "outputs": ${multiLine(outputs, 1)}\n}`;
}

/** MakeJsonFromStatus: {"error": "..."} by rapidjson's PrettyWriter. */
export function errorBody(message: string): string {
  return `{\n    "error": ${JSON.stringify(message)}\n}`;
}

/** protobuf's JSON printer with add_whitespace: one-space indent. */
export function protoJson(value: unknown): string {
  return JSON.stringify(value, null, 1);
}

function scalar(v: unknown): string {
  return typeof v === 'number' ? tfFloat(v) : JSON.stringify(v) ?? 'null';
}
