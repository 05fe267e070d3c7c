// A JSON parser that keeps integers exact: an integer literal outside ±(2^53 − 1) becomes a bigint
// instead of a rounded number (Triton's uint64 counters pass 2^53). Optionally accepts the bare
// NaN / Infinity / -Infinity that TF Serving writes in prediction bodies. Errors carry the offset.
// Why not the lossless-json package: adapters/README.md (it refuses TF Serving's NaN).

export class JsonSyntaxError extends Error {
  override readonly name = 'JsonSyntaxError';
  readonly offset: number;

  constructor(message: string, offset: number) {
    super(`${message} at offset ${offset}`);
    this.offset = offset;
  }
}

export type LosslessJson = null | boolean | number | bigint | string | LosslessJson[] | { [key: string]: LosslessJson };

export function parseJsonLossless(text: string, options: { allowNonFinite?: boolean } = {}): LosslessJson {
  let i = 0;
  const n = text.length;
  const ws = (): void => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 9 || c === 10 || c === 13) i++;
      else break;
    }
  };
  const fail = (what: string): never => {
    throw new JsonSyntaxError(i >= n ? 'unexpected end of JSON' : `${what} (found ${JSON.stringify(text[i])})`, i);
  };
  const literal = (word: string, value: LosslessJson): LosslessJson => {
    if (text.startsWith(word, i)) {
      i += word.length;
      return value;
    }
    return fail(`expected ${word}`);
  };
  const str = (): string => {
    const start = i;
    i++; // opening quote
    let out = '';
    let chunk = i;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 34) {
        out += text.slice(chunk, i);
        i++;
        return out;
      }
      if (c === 92) {
        out += text.slice(chunk, i);
        const e = text[i + 1];
        if (e === undefined) break;
        const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
        if (e === 'u') {
          const hex = text.slice(i + 2, i + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('bad \\u escape');
          out += String.fromCharCode(parseInt(hex, 16));
          i += 6;
        } else if (simple[e] !== undefined) {
          out += simple[e];
          i += 2;
        } else {
          fail('bad escape');
        }
        chunk = i;
        continue;
      }
      if (c < 32) fail('control character in string');
      i++;
    }
    i = start;
    return fail('unterminated string');
  };
  const num = (): number | bigint => {
    const m = /^-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m) return fail('bad number');
    i += m[0].length;
    const isInteger = m[1] === undefined && m[2] === undefined;
    if (isInteger) {
      const v = Number(m[0]);
      return Number.isSafeInteger(v) ? v : BigInt(m[0]);
    }
    return Number(m[0]);
  };
  const value = (depth: number): LosslessJson => {
    if (depth > 512) fail('nesting too deep');
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const obj: { [key: string]: LosslessJson } = {};
      ws();
      if (text[i] === '}') {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a string key');
        const k = str();
        ws();
        if (text[i] !== ':') fail('expected ":"');
        i++;
        Object.defineProperty(obj, k, { value: value(depth + 1), enumerable: true, writable: true, configurable: true });
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return obj;
        }
        fail('expected "," or "}"');
      }
    }
    if (c === '[') {
      i++;
      const arr: LosslessJson[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value(depth + 1));
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return arr;
        }
        fail('expected "," or "]"');
      }
    }
    if (c === '"') return str();
    if (c === 't') return literal('true', true);
    if (c === 'f') return literal('false', false);
    if (c === 'n') return literal('null', null);
    if (options.allowNonFinite) {
      if (c === 'N') return literal('NaN', Number.NaN);
      if (c === 'I') return literal('Infinity', Infinity);
      if (c === '-' && text[i + 1] === 'I') {
        i++;
        return literal('Infinity', -Infinity);
      }
    }
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return num();
    return fail('unexpected character');
  };
  const v = value(0);
  ws();
  if (i < n) fail('unexpected text after the JSON value');
  return v;
}
