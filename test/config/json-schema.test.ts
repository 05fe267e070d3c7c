import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { CONFIG_JSON_SCHEMA_PATH, configJsonSchemaText } from '../../src/config/index.js';
import { parseDurationMs } from '../../src/core/model/duration.js';

describe('config JSON Schema', () => {
  it('the committed file is up to date (run `npm run schema` when this fails)', () => {
    expect(readFileSync(CONFIG_JSON_SCHEMA_PATH, 'utf8')).to.equal(configJsonSchemaText());
  });

  it('describes the input: defaulted keys optional, unknown keys refused', () => {
    const schema = JSON.parse(configJsonSchemaText()) as { required: string[]; additionalProperties: boolean; properties: Record<string, unknown> };
    expect(schema.required).to.deep.equal(['hardware', 'pipelines']);
    expect(schema.additionalProperties).to.equal(false);
    expect(Object.keys(schema.properties)).to.deep.equal(['hardware', 'profiles', 'pipelines', 'planner', 'tuner', 'telemetry', 'coordination', 'agent', 'placement']);
  });

  it('publishes the same duration grammar as the core parser', () => {
    const samples = ['250ms', '30s', '5m', '1h', '1.5s', ' 2 s ', '0ms', '1d', 's', '-1s', '1.s', '.5s', 'ms', '10', '1e3ms', '5 M'];
    const patterns = [...configJsonSchemaText().matchAll(/"pattern": "((?:[^"\\]|\\.)*)"/g)].map((m) => JSON.parse(`"${m[1]}"`) as string);
    expect(patterns.length).to.be.above(0);
    for (const pattern of new Set(patterns)) {
      const re = new RegExp(pattern);
      for (const text of samples) expect(re.test(text), `${pattern} on ${text}`).to.equal(parseDurationMs(text) !== undefined);
    }
  });
});
