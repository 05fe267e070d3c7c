// A small reader for the protobuf text format, enough for TF Serving's two hand-edited files: the
// batching parameters file (C.4) and the model config file (C.5). Pure. It keeps each field's byte
// span so a rewrite can replace one field and leave every other byte (comments included) intact.

export class TextProtoError extends Error {
  override readonly name = 'TextProtoError';
}

export interface TextProtoToken {
  readonly kind: 'ident' | 'number' | 'string' | 'punct';
  readonly text: string;
  /** Decoded value of a string token. */
  readonly value: string;
  readonly start: number;
  readonly end: number;
}

export type TextProtoValue =
  | { readonly kind: 'scalar'; readonly token: TextProtoToken }
  | { readonly kind: 'message'; readonly fields: readonly TextProtoField[] };

export interface TextProtoField {
  readonly name: string;
  readonly value: TextProtoValue;
  /** Byte span of the whole field, from its name to the end of its value. */
  readonly start: number;
  readonly end: number;
}

const NUMBER = /^-?(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)[fF]?/;
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*/;

function lineCol(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `line ${before.length}, column ${(before[before.length - 1]?.length ?? 0) + 1}`;
}

function tokenize(text: string): TextProtoToken[] {
  const tokens: TextProtoToken[] = [];
  let i = 0;
  const fail = (what: string): never => {
    throw new TextProtoError(`${what} at ${lineCol(text, i)}`);
  };
  while (i < text.length) {
    const c = text[i] as string;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if ('{}<>:,;[]'.includes(c)) {
      tokens.push({ kind: 'punct', text: c, value: c, start: i, end: i + 1 });
      i++;
    } else if (c === '"' || c === "'") {
      const start = i;
      let value = '';
      i++;
      for (;;) {
        const d = text[i];
        if (d === undefined || d === '\n') fail('unterminated string');
        if (d === c) break;
        if (d === '\\') {
          const e = text[i + 1] ?? '';
          value += ({ n: '\n', t: '\t', r: '\r' } as Record<string, string>)[e] ?? e;
          i += 2;
        } else {
          value += d;
          i++;
        }
      }
      i++;
      tokens.push({ kind: 'string', text: text.slice(start, i), value, start, end: i });
    } else {
      const rest = text.slice(i, i + 200);
      const m = NUMBER.exec(rest) ?? IDENT.exec(rest);
      if (!m) fail(`unexpected character ${JSON.stringify(c)}`);
      const word = (m as RegExpExecArray)[0];
      tokens.push({ kind: /^[A-Za-z_]/.test(word) ? 'ident' : 'number', text: word, value: word, start: i, end: i + word.length });
      i += word.length;
    }
  }
  return tokens;
}

/** Parses a text-format message into fields, in file order. Throws TextProtoError with a position. */
export function parseTextProto(text: string): TextProtoField[] {
  const tokens = tokenize(text);
  let k = 0;
  const at = (t: TextProtoToken | undefined): string => (t ? lineCol(text, t.start) : 'end of file');
  const fail = (what: string): never => {
    throw new TextProtoError(`${what} at ${at(tokens[k])}`);
  };
  const message = (close: string | undefined): TextProtoField[] => {
    const fields: TextProtoField[] = [];
    for (;;) {
      const t = tokens[k];
      if (t === undefined) {
        if (close !== undefined) fail(`expected "${close}"`);
        return fields;
      }
      if (close !== undefined && t.text === close && t.kind === 'punct') {
        k++;
        return fields;
      }
      if (t.kind !== 'ident') fail(`expected a field name, found ${JSON.stringify(t.text)}`);
      k++;
      const colon = tokens[k]?.text === ':' && tokens[k]?.kind === 'punct';
      if (colon) k++;
      const values = fieldValues(colon);
      for (const v of values) fields.push({ name: t.text, value: v.value, start: t.start, end: v.end });
      if (tokens[k]?.kind === 'punct' && (tokens[k]?.text === ',' || tokens[k]?.text === ';')) k++;
    }
  };
  const single = (colon: boolean): { value: TextProtoValue; end: number } => {
    const v = tokens[k];
    if (v?.kind === 'punct' && (v.text === '{' || v.text === '<')) {
      k++;
      const fields = message(v.text === '{' ? '}' : '>');
      return { value: { kind: 'message', fields }, end: (tokens[k - 1] as TextProtoToken).end };
    }
    if (!colon) fail('expected ":" before a scalar value');
    if (v === undefined || v.kind === 'punct') fail('expected a value');
    k++;
    return { value: { kind: 'scalar', token: v as TextProtoToken }, end: (v as TextProtoToken).end };
  };
  const fieldValues = (colon: boolean): { value: TextProtoValue; end: number }[] => {
    if (!(colon && tokens[k]?.kind === 'punct' && tokens[k]?.text === '[')) return [single(colon)];
    k++; // a list: `name: [a, b]` is the same as repeating the field
    const out: { value: TextProtoValue; end: number }[] = [];
    while (!(tokens[k]?.kind === 'punct' && tokens[k]?.text === ']')) {
      out.push(single(true));
      if (tokens[k]?.kind === 'punct' && tokens[k]?.text === ',') k++;
      else if (!(tokens[k]?.kind === 'punct' && tokens[k]?.text === ']')) fail('expected "," or "]"');
    }
    k++;
    return out;
  };
  return message(undefined);
}

/** An integer scalar that must fit a JS number exactly (int64 fields beyond 2^53 are refused). */
export function integerOf(token: TextProtoToken, what: string): number {
  if (token.kind !== 'number' || !/^-?\d+$/.test(token.text)) throw new TextProtoError(`${what}: expected an integer, found ${JSON.stringify(token.text)}`);
  const n = Number(token.text);
  if (!Number.isSafeInteger(n)) throw new TextProtoError(`${what}: ${token.text} is beyond 2^53 and cannot be read exactly`);
  return n;
}
