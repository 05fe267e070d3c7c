// Zod issues → problems in the house format `path: value — must be …`. Messages are built here
// from each issue's structured fields rather than taken from zod, so every problem reads the same;
// only messages the schema wrote itself (they start with "must") are used as they are.
import type { z } from 'zod';
import { formatPath, type Problem } from '../core/model/errors.js';
import { isSecretPath, REDACTED } from './secrets.js';

type Issue = z.core.$ZodIssue;

/**
 * Problems for the issues of one parse (run with `reportInput: true`, so each issue carries the
 * offending value). `file` names the file for issues of a file other than the config itself.
 */
export function problemsFromIssues(issues: readonly Issue[], file?: string): Problem[] {
  return issues.flatMap((issue) => fromIssue(issue, [], file));
}

/** `a.b` in the config; `./profiles.yaml: a.b` in another file. */
export function filePath(file: string | undefined, path: string): string {
  if (file === undefined) return path;
  return path === '' ? file : `${file}: ${path}`;
}

function fromIssue(issue: Issue, base: readonly PropertyKey[], file: string | undefined): Problem[] {
  const at = [...base, ...issue.path].map((s) => (typeof s === 'number' ? s : String(s)));
  const path = filePath(file, formatPath(at));
  // A rejected secret is still a secret: the problem names the setting, never its value.
  if (isSecretPath(at) && issue.input !== undefined) issue = { ...issue, input: REDACTED_INPUT } as Issue;
  switch (issue.code) {
    case 'unrecognized_keys': {
      return issue.keys.map((key) => ({
        path: filePath(file, formatPath([...at, key])),
        message: `unknown key — ${issue.message}`,
      }));
    }
    case 'invalid_union': {
      // A discriminated union (agent.server on `kind`) whose discriminator matched no branch: the problem is that key's value.
      if (issue.errors.length === 0 && issue.discriminator !== undefined) {
        const value = isRecord(issue.input) ? issue.input[issue.discriminator] : undefined;
        return [{ path, message: `${renderValue(value)} — ${mustBe(issue)}` }];
      }
      // Report the branch that got past the type check (a string where a string-or-object was
      // expected, say); when every branch failed on the type alone, say which types are taken.
      const deep = issue.errors.find((branch) => !branch.every(isShallowTypeMismatch));
      if (deep !== undefined) return deep.flatMap((i) => fromIssue(i, at, file));
      const wanted = custom(issue.message) ? issue.message : `must be ${unionTypes(issue.errors)}`;
      return [{ path, message: `${renderValue(issue.input)} — ${wanted}` }];
    }
    default:
      return [{ path, message: `${renderValue(issue.input)} — ${mustBe(issue)}` }];
  }
}

/** The "must be …" clause of a single issue. */
function mustBe(issue: Issue): string {
  if (custom(issue.message)) return issue.message;
  switch (issue.code) {
    case 'invalid_type':
      return `must be ${typeName(issue.expected)}`;
    case 'too_small':
      return issue.origin === 'array' || issue.origin === 'set'
        ? `must have at least ${String(issue.minimum)} item${Number(issue.minimum) === 1 ? '' : 's'}`
        : issue.origin === 'string'
          ? (Number(issue.minimum) === 1 ? 'must not be empty' : `must have at least ${String(issue.minimum)} characters`)
          : `must be ${issue.inclusive ? '≥' : '>'} ${String(issue.minimum)}`;
    case 'too_big':
      return issue.origin === 'array' || issue.origin === 'set'
        ? `must have at most ${String(issue.maximum)} items`
        : issue.origin === 'string'
          ? `must have at most ${String(issue.maximum)} characters`
          : `must be ${issue.inclusive ? '≤' : '<'} ${String(issue.maximum)}`;
    case 'invalid_value':
      return `must be one of: ${issue.values.map((v) => renderValue(v)).join(', ')}`;
    case 'not_multiple_of':
      return `must be a multiple of ${String(issue.divisor)}`;
    case 'invalid_format':
      return `must be in the ${issue.format} format`;
    default:
      return `must be valid (${issue.message})`;
  }
}

function custom(message: string): boolean {
  return message.startsWith('must ');
}

function isShallowTypeMismatch(issue: Issue): boolean {
  return issue.code === 'invalid_type' && issue.path.length === 0;
}

function unionTypes(branches: readonly (readonly Issue[])[]): string {
  const names = branches.flatMap((b) => b.filter((i) => i.code === 'invalid_type').map((i) => typeName(i.expected)));
  return [...new Set(names)].join(' or ');
}

function typeName(expected: string): string {
  switch (expected) {
    case 'int': return 'an integer';
    case 'array': return 'a list';
    case 'object': return 'an object';
    case 'boolean': return 'true or false';
    default: return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
  }
}

const MAX_VALUE_CHARS = 60;

/** Stands for a secret's value in a problem. */
const REDACTED_INPUT = Symbol('redacted');

/**
 * A short rendering of an offending value: JSON, cut at 60 characters; `missing` for none. Only
 * the part shown is rendered, so a huge value (a list of a million points) costs no more than a
 * small one.
 */
export function renderValue(value: unknown): string {
  if (value === REDACTED_INPUT) return REDACTED;
  if (value === undefined) return 'missing';
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  const parts: string[] = [];
  let length = 0;
  const emit = (text: string): boolean => {
    parts.push(text);
    length += text.length;
    return length <= MAX_VALUE_CHARS;
  };
  const walk = (v: unknown): boolean => {
    if (Array.isArray(v)) {
      if (!emit('[')) return false;
      for (let i = 0; i < v.length; i++) {
        if ((i > 0 && !emit(',')) || !walk(v[i] === undefined ? null : v[i])) return false;
      }
      return emit(']');
    }
    if (typeof v === 'object' && v !== null) {
      if (!emit('{')) return false;
      let first = true;
      for (const [k, item] of Object.entries(v)) {
        if (item === undefined) continue;
        if ((!first && !emit(',')) || !emit(`${JSON.stringify(k)}:`) || !walk(item)) return false;
        first = false;
      }
      return emit('}');
    }
    const text = typeof v === 'string' && v.length > MAX_VALUE_CHARS ? JSON.stringify(v.slice(0, MAX_VALUE_CHARS)) : JSON.stringify(v) ?? String(v);
    return emit(text);
  };
  walk(value);
  const text = parts.join('');
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS - 1)}…` : text;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
