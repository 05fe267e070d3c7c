// JSON text with bigint values written as plain numbers (Triton's uint64 counters), optionally
// indented like JSON.stringify.

export function stringifyJson(value: unknown, indent = 0): string {
  return write(value, indent, '') ?? 'null';
}

function write(value: unknown, indent: number, pad: string): string | undefined {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'bigint': return value.toString();
    case 'number': return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean': return value ? 'true' : 'false';
    case 'string': return JSON.stringify(value);
    case 'undefined': case 'function': case 'symbol': return undefined;
    default: break;
  }
  const inner = indent > 0 ? pad + ' '.repeat(indent) : '';
  const nl = indent > 0 ? '\n' : '';
  const colon = indent > 0 ? ': ' : ':';
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    const items = value.map((v) => `${inner}${write(v, indent, inner) ?? 'null'}`);
    return `[${nl}${items.join(`,${nl}`)}${nl}${indent > 0 ? pad : ''}]`;
  }
  const entries: string[] = [];
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const text = write(v, indent, inner);
    if (text !== undefined) entries.push(`${inner}${JSON.stringify(k)}${colon}${text}`);
  }
  if (entries.length === 0) return '{}';
  return `{${nl}${entries.join(`,${nl}`)}${nl}${indent > 0 ? pad : ''}}`;
}
