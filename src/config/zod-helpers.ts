// The config schema's small shared building blocks (strict objects, names, durations, URLs), in a
// file of their own so the adapters' settings schemas (adapters/<kind>/settings.ts) can use them
// without importing the whole config schema, which imports them back.
import { z } from 'zod';
import { DURATION_HINT, DURATION_PATTERN, parseDurationMs } from '../core/model/duration.js';

/**
 * A strict object whose unknown-key message lists the keys it does take (`known`: the keys to
 * list, when some keys of the shape exist only to be refused).
 */
export function strict<T extends z.ZodRawShape>(shape: T, known: readonly string[] = Object.keys(shape)) {
  const list = known.join(', ');
  return z.strictObject(shape, {
    error: (issue) => (issue.code === 'unrecognized_keys' ? `must be one of: ${list}` : undefined),
  });
}

export const name = z.string().min(1);
export const positiveInt = z.int().min(1);

const durationString = z.string()
  .regex(DURATION_PATTERN, { error: `must be ${DURATION_HINT}` })
  .transform((text, ctx) => {
    const ms = parseDurationMs(text);
    if (ms === undefined) {
      ctx.issues.push({ code: 'custom', message: `must be ${DURATION_HINT}`, input: text });
      return z.NEVER;
    }
    return ms;
  });

/** Milliseconds as a number, or a duration string; inside, always milliseconds. */
export function duration(number: z.ZodNumber) {
  return z.union([number, durationString], {
    error: `must be a number of milliseconds or ${DURATION_HINT}`,
  });
}

export const httpUrl = z.string().refine((text) => {
  try {
    const u = new URL(text);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}, { error: 'must be an http(s) URL' });
