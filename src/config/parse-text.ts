// Text → plain data. One parser for YAML and JSON: every JSON document is YAML, and js-yaml gives
// a line and column for every syntax error, which JSON.parse on Node 20 does not.
import yaml from 'js-yaml';
import { MAX_DOCUMENT_CHARS, MAX_DOCUMENT_NODES } from '../core/model/limits.js';

export type ParsedText = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly message: string };

/**
 * Parses a YAML or JSON document. The core schema (not js-yaml's default) keeps `2024-01-01` a
 * string and loads no custom tags; duplicate keys are errors. A document that expands (aliases
 * counted once per use) to more than MAX_DOCUMENT_NODES values is refused: every later step walks
 * the expanded tree, so a few kilobytes of nested aliases would otherwise run for hours. So is a
 * text over MAX_DOCUMENT_CHARS, before js-yaml spends seconds on it.
 */
export function parseText(text: string, file: string): ParsedText {
  if (text.length > MAX_DOCUMENT_CHARS) {
    return { ok: false, message: `is ${Math.round(text.length / 1_048_576)} MiB — must be at most ${MAX_DOCUMENT_CHARS / 1_048_576} MiB: configs, profile and plan files are small (a profile has at most 1024 points; traces go in trace files)` };
  }
  let value: unknown;
  try {
    value = yaml.load(text, { filename: file, schema: yaml.CORE_SCHEMA });
  } catch (err) {
    if (!(err instanceof yaml.YAMLException)) throw err;
    // js-yaml's marks are 0-based; editors count from 1.
    const where = err.mark ? `line ${err.mark.line + 1}, column ${err.mark.column + 1}: ` : '';
    return { ok: false, message: `${where}${err.reason} — must be valid YAML or JSON` };
  }
  if (exceedsNodes(value, MAX_DOCUMENT_NODES)) {
    return {
      ok: false,
      message: `expands to more than ${MAX_DOCUMENT_NODES} values (YAML aliases counted once per use) — must be smaller: look for aliases nested in aliases (*a inside &b), or data that belongs elsewhere (a profile has at most 1024 points)`,
    };
  }
  return { ok: true, value };
}

/** Whether the tree under `value`, shared subtrees counted at every use, has more than `limit` nodes. */
export function exceedsNodes(value: unknown, limit: number): boolean {
  const stack: unknown[] = [value];
  let count = 0;
  while (stack.length > 0) {
    const v = stack.pop();
    if (++count > limit) return true;
    if (Array.isArray(v)) {
      for (const item of v) stack.push(item);
    } else if (typeof v === 'object' && v !== null) {
      for (const item of Object.values(v)) stack.push(item);
    }
  }
  return false;
}
