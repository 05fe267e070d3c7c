// The layering rules of DESIGN.md are lint rules; this shows they fire on code that breaks them.
import { expect } from 'chai';
import { ESLint } from 'eslint';

const eslint = new ESLint();

async function ruleIds(code: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).map((m) => m.ruleId ?? m.message);
}

describe('lint: layering rules', function () {
  this.timeout(30_000);

  const cases: { name: string; file: string; code: string; want: string | undefined }[] = [
    { name: 'the core reads no clock', file: 'src/core/x.ts', code: 'export const t = Date.now();\n', want: 'no-restricted-properties' },
    { name: 'the core draws no unseeded randomness', file: 'src/core/x.ts', code: 'export const r = Math.random();\n', want: 'no-restricted-properties' },
    { name: 'the core has no timers', file: 'src/core/x.ts', code: 'setTimeout(() => undefined, 1);\n', want: 'no-restricted-globals' },
    { name: 'the core does no I/O', file: 'src/core/x.ts', code: "import { readFileSync } from 'node:fs';\nexport const f = readFileSync;\n", want: 'no-restricted-imports' },
    { name: 'the core imports nothing from the shell', file: 'src/core/x.ts', code: "import { loadConfig } from '../config/index.js';\nexport const f = loadConfig;\n", want: 'no-restricted-imports' },
    { name: 'the core builds no Date of now', file: 'src/core/x.ts', code: 'export const d = new Date();\n', want: 'no-restricted-syntax' },
    { name: 'the runtime may read the clock', file: 'src/runtime/x.ts', code: 'export const t = Date.now();\n', want: undefined },
    { name: 'the runtime wires no concrete adapter', file: 'src/runtime/x.ts', code: "import { x } from '../../adapters/triton/index.js';\nexport const y = x;\n", want: 'no-restricted-imports' },
    { name: 'no export *', file: 'src/core/index.ts', code: "export * from './types.js';\n", want: 'no-restricted-syntax' },
    { name: 'the runtime records through the Telemetry port, not OpenTelemetry', file: 'src/runtime/x.ts', code: "import { metrics } from '@opentelemetry/api';\nexport const m = metrics;\n", want: 'no-restricted-imports' },
    { name: 'an adapter records through the Telemetry port, not OpenTelemetry', file: 'adapters/common/x.ts', code: "import { metrics } from '@opentelemetry/api';\nexport const m = metrics;\n", want: 'no-restricted-imports' },
    { name: 'src/telemetry wires the SDK', file: 'src/telemetry/x.ts', code: "import { MeterProvider } from '@opentelemetry/sdk-metrics';\nexport const p = MeterProvider;\n", want: undefined },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const ids = await ruleIds(c.code, c.file);
      if (c.want === undefined) expect(ids).to.deep.equal([]);
      else expect(ids).to.include(c.want);
    });
  }
});
