// Text → plain data. One parser for YAML and JSON: every JSON document is YAML, and js-yaml gives
// a line and column for every syntax error, which JSON.parse on Node 20 does not.
import yaml from 'js-yaml';

export type ParsedText = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly message: string };

/**
 * Parses a YAML or JSON document. The core schema (not js-yaml's default) keeps `2024-01-01` a
 * string and loads no custom tags; duplicate keys are errors.
 */
export function parseText(text: string, file: string): ParsedText {
  try {
    return { ok: true, value: yaml.load(text, { filename: file, schema: yaml.CORE_SCHEMA }) };
  } catch (err) {
    if (!(err instanceof yaml.YAMLException)) throw err;
    // js-yaml's marks are 0-based; editors count from 1.
    const where = err.mark ? `line ${err.mark.line + 1}, column ${err.mark.column + 1}: ` : '';
    return { ok: false, message: `${where}${err.reason} — must be valid YAML or JSON` };
  }
}
