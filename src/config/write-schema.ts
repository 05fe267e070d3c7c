// `npm run schema`: regenerates config/inferline.schema.json from the zod schema.
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { CONFIG_JSON_SCHEMA_PATH, configJsonSchemaText } from './json-schema.js';

const target = fileURLToPath(new URL(`../../${CONFIG_JSON_SCHEMA_PATH}`, import.meta.url));
await writeFile(target, configJsonSchemaText());
process.stdout.write(`wrote ${CONFIG_JSON_SCHEMA_PATH}\n`);
