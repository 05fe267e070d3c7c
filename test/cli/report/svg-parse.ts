// Just enough parsing of the renderer's own output for structural assertions in tests.

/** One element's attributes, by a regex over the start tag (the renderer writes them one way). */
export function attrs(tag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of tag.matchAll(/\s([a-zA-Z][\w:-]*)="([^"]*)"/g)) out[m[1] as string] = m[2] as string;
  return out;
}

/** Start tags of elements named `name` carrying class `cls` (or any class when omitted). */
export function elements(xml: string, name: string, cls?: string): string[] {
  const tags = xml.match(new RegExp(`<${name}\\b[^>]*>`, 'g')) ?? [];
  return cls === undefined ? tags : tags.filter((t) => attrs(t)['class'] === cls);
}

/** The `<path class="series">` start tag of the series named (as escaped in the output) `name`. */
export function seriesPath(xml: string, escapedName: string): string | undefined {
  return elements(xml, 'path', 'series').find((t) => attrs(t)['data-series'] === escapedName);
}

export interface PathShape {
  /** Continuous pieces: one per `M`. */
  readonly segments: number;
  /** Data points drawn: `M`, `L`, and the `V` that ends each step of a staircase. */
  readonly points: number;
  /** Every y coordinate of the vertices. */
  readonly ys: readonly number[];
  readonly xs: readonly number[];
}

/** Reads back the path data that `lineChart` writes (absolute M/L/H/V, and h0 dots). */
export function pathShape(d: string): PathShape {
  let segments = 0;
  let points = 0;
  const xs: number[] = [];
  const ys: number[] = [];
  for (const m of d.matchAll(/([MLHVh])(-?[\d.]+)(?: (-?[\d.]+))?/g)) {
    const [, cmd, a, b] = m;
    if (cmd === 'M') { segments++; points++; xs.push(Number(a)); ys.push(Number(b)); }
    else if (cmd === 'L') { points++; xs.push(Number(a)); ys.push(Number(b)); }
    else if (cmd === 'H') xs.push(Number(a));
    else if (cmd === 'V') { points++; ys.push(Number(a)); }
  }
  return { segments, points, xs, ys };
}

const VOID = new Set(['meta', 'br', 'hr', 'img', 'input', 'link']);

/**
 * Checks that start and end tags nest properly (self-closing and HTML void elements aside), and
 * returns the first problem, or undefined. Text between tags must not hold a raw `<` or `>`.
 */
export function tagProblem(markup: string): string | undefined {
  const body = markup.replace(/<!DOCTYPE[^>]*>/i, '').replace(/<style>[\s\S]*?<\/style>/, '<style></style>');
  const stack: string[] = [];
  const tokens = body.split(/(<[^<>]*>)/);
  for (const t of tokens) {
    if (!t.startsWith('<')) {
      if (/[<>]/.test(t)) return `raw < or > in text: ${t.slice(0, 60)}`;
      continue;
    }
    const m = /^<(\/?)([a-zA-Z][\w-]*)[^>]*?(\/?)>$/.exec(t);
    if (!m) return `not a tag: ${t.slice(0, 60)}`;
    const [, close, name, selfClose] = m as unknown as [string, string, string, string];
    if (selfClose || VOID.has(name)) continue;
    if (!close) stack.push(name);
    else if (stack.pop() !== name) return `</${name}> closes the wrong element`;
  }
  return stack.length === 0 ? undefined : `unclosed: ${stack.join(', ')}`;
}
