// The published JSON Schema of the config file, generated from the zod schema so the two cannot
// drift (a test compares it with config/inferline.schema.json).
import { z } from 'zod';
import { configSchema } from './schema.js';

/** Where `npm run schema` writes it, relative to the repository root. */
export const CONFIG_JSON_SCHEMA_PATH = 'config/inferline.schema.json';

/**
 * The JSON Schema text, pretty-printed with a trailing newline. Input mode: it describes what a
 * user writes, so fields with defaults are optional and durations are strings or numbers.
 */
export function configJsonSchemaText(): string {
  return `${JSON.stringify(z.toJSONSchema(configSchema, { io: 'input', override: dropRefusedKeys }), null, 2)}\n`;
}

/**
 * agent.server refuses each other kind's keys by name (adapters/settings.ts); the published schema
 * says the same with additionalProperties: false, so those keys are left out of its properties.
 */
function dropRefusedKeys(ctx: { jsonSchema: { properties?: Record<string, unknown> } }): void {
  const props = ctx.jsonSchema.properties;
  if (props === undefined) return;
  for (const [key, value] of Object.entries(props)) {
    if (JSON.stringify(value) === '{"not":{}}') delete props[key];
  }
}
