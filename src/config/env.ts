// Environment overrides: `INFERLINE_PLANNER__SEED=3` sets `planner.seed` to 3 in the raw config
// before validation, so an overridden value is checked exactly like one written in the file.
//
// Rules: after the `INFERLINE_` prefix, `__` separates keys and each key is SNAKE_CASE for a
// camelCase name (`MAX_REPLICAS_PER_STAGE` → `maxReplicasPerStage`). Values are read as YAML
// scalars (`3` a number, `true` a boolean, anything else a string). Only keys of objects can be
// set, never list items. A variable is taken as an override when it has a `__` or names a
// top-level key, so that other INFERLINE_ variables (INFERLINE_DEBUG) are left alone; an override
// naming no setting of the schema is a problem, never silently ignored.
import yaml from 'js-yaml';
import type { z } from 'zod';
import type { Problem } from '../core/model/errors.js';
import { isRecord } from './issues.js';

export const ENV_PREFIX = 'INFERLINE_';

/** One applied override: which variable set which config path (e.g. `planner.seed`). */
export interface EnvOverride {
  readonly variable: string;
  readonly path: string;
}

export interface EnvResult {
  /** The raw config with the overrides applied (a copy; the input is not changed). */
  readonly raw: unknown;
  readonly applied: readonly EnvOverride[];
  readonly problems: readonly Problem[];
}

/** Applies every `INFERLINE_*` override in `env` whose path `schema` has. */
export function applyEnvOverrides(raw: unknown, env: NodeJS.ProcessEnv, schema: z.ZodObject): EnvResult {
  const variables = Object.keys(env).filter((k) => k.startsWith(ENV_PREFIX)).sort();
  const topLevel = new Set(Object.keys(schema.shape));
  const applied: EnvOverride[] = [];
  const problems: Problem[] = [];
  if (!isRecord(raw)) return { raw, applied, problems }; // the schema reports the root's type
  const out = structuredClone(raw);
  for (const variable of variables) {
    const rest = variable.slice(ENV_PREFIX.length);
    const keys = rest.split('__').map(camelCase);
    if (!rest.includes('__') && !topLevel.has(keys[0] ?? '')) continue;
    const dotted = keys.join('.');
    const unknown = checkPath(schema, keys);
    if (unknown !== undefined) {
      problems.push({ path: variable, message: `${dotted || '(empty)'} — must name a config setting: ${unknown}` });
      continue;
    }
    const blocked = setPath(out, keys, scalar(env[variable] ?? ''));
    if (blocked !== undefined) {
      problems.push({ path: variable, message: `cannot set ${dotted} — ${blocked} must be an object in the file to take an override` });
      continue;
    }
    applied.push({ variable, path: dotted });
  }
  return { raw: out, applied, problems };
}

/** `MAX_REPLICAS_PER_STAGE` → `maxReplicasPerStage`. */
export function camelCase(snake: string): string {
  return snake.toLowerCase().replace(/_+([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/** A YAML scalar: `3` → 3, `true` → true, `~` → null; a value that parses as a collection stays a string. */
function scalar(text: string): unknown {
  try {
    const value: unknown = yaml.load(text, { schema: yaml.CORE_SCHEMA });
    return value !== null && typeof value === 'object' ? text : value;
  } catch {
    return text;
  }
}

/** Why `keys` names no object key of the schema, or undefined when it does. */
function checkPath(schema: z.core.$ZodType, keys: readonly string[]): string | undefined {
  let node: z.core.$ZodType = schema;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    const where = i === 0 ? 'the config' : keys.slice(0, i).join('.');
    const shape = objectShape(node);
    if (shape === undefined) return `${where} is not an object (overrides set object keys only, never list items)`;
    const child = shape[key];
    if (key === '' || child === undefined) return `${where} has no key "${key}" (it has: ${Object.keys(shape).join(', ')})`;
    node = child;
  }
  return undefined;
}

/** The shape of the object a schema accepts, looking through optional, default and pipe wrappers. */
function objectShape(schema: z.core.$ZodType): Record<string, z.core.$ZodType> | undefined {
  const def = schema._zod.def as z.core.$ZodTypeDef & {
    shape?: Record<string, z.core.$ZodType>;
    innerType?: z.core.$ZodType;
    in?: z.core.$ZodType;
    options?: readonly z.core.$ZodType[];
  };
  switch (def.type) {
    case 'object': return def.shape;
    case 'optional': case 'default': case 'prefault': case 'nullable': case 'readonly':
      return def.innerType ? objectShape(def.innerType) : undefined;
    case 'pipe': return def.in ? objectShape(def.in) : undefined;
    case 'union': {
      // Every option's keys (agent.server: each kind's), so an override may set a key of any of them.
      const shapes = (def.options ?? []).map(objectShape).filter((s) => s !== undefined);
      return shapes.length === 0 ? undefined : Object.assign({}, ...shapes) as Record<string, z.core.$ZodType>;
    }
    default: return undefined;
  }
}

/** Sets `keys` in `root`, creating missing objects; returns the path of a non-object in the way. */
function setPath(root: Record<string, unknown>, keys: readonly string[], value: unknown): string | undefined {
  let node = root;
  for (let i = 0; i < keys.length - 1; i++) {
    const key = keys[i] as string;
    const next = node[key];
    if (next === undefined || next === null) node[key] = {};
    else if (!isRecord(next)) return keys.slice(0, i + 1).join('.');
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1] as string] = value;
  return undefined;
}
