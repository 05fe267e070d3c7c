// The layering rules of DESIGN.md are lint rules; this shows they fire on code that breaks them.
import { expect } from 'chai';
import { ESLint } from 'eslint';

// The cases are files that do not exist: the type-aware rules read them through a default project.
const eslint = new ESLint({
  overrideConfig: {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: { allowDefaultProject: ['src/*/x.ts', 'adapters/*/x.ts'] } } },
  },
});

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
    { name: 'the config imports no adapter', file: 'src/config/x.ts', code: "import { createTritonAdapter } from '../../adapters/triton/index.js';\nexport const c = createTritonAdapter;\n", want: 'no-restricted-imports' },
    { name: 'the config may import an adapter\'s pure settings', file: 'src/config/x.ts', code: "import { tritonSettings } from '../../adapters/triton/settings.js';\nexport const s = tritonSettings;\n", want: undefined },
    { name: 'the config may import the settings of every kind', file: 'src/config/x.ts', code: "import { serverSettingsSchema } from '../../adapters/settings.js';\nexport const s = serverSettingsSchema;\n", want: undefined },
    { name: 'the runtime imports no adapter settings either', file: 'src/runtime/x.ts', code: "import { tritonSettings } from '../../adapters/triton/settings.js';\nexport const s = tritonSettings;\n", want: 'no-restricted-imports' },
    { name: 'no export *', file: 'src/core/x.ts', code: "export * from './types.js';\n", want: 'no-restricted-syntax' },
    { name: 'the runtime records through the Telemetry port, not OpenTelemetry', file: 'src/runtime/x.ts', code: "import { metrics } from '@opentelemetry/api';\nexport const m = metrics;\n", want: 'no-restricted-imports' },
    { name: 'an adapter records through the Telemetry port, not OpenTelemetry', file: 'adapters/common/x.ts', code: "import { metrics } from '@opentelemetry/api';\nexport const m = metrics;\n", want: 'no-restricted-imports' },
    { name: 'an adapter takes its clock from the platform, not the runtime', file: 'adapters/common/x.ts', code: "import { systemClock } from '../../src/runtime/replay.js';\nexport const c = systemClock;\n", want: 'no-restricted-imports' },
    { name: 'an adapter may use the platform clock', file: 'adapters/common/x.ts', code: "import { systemClock } from '../../src/platform/system-clock.js';\nexport const c = systemClock;\n", want: undefined },
    { name: 'coordination stands below the runtime', file: 'src/coordination/x.ts', code: "import { PeriodicTask } from '../runtime/collector.js';\nexport const p = PeriodicTask;\n", want: 'no-restricted-imports' },
    { name: 'coordination stands below the CLI', file: 'src/coordination/x.ts', code: "import { run } from '../cli/main.js';\nexport const r = run;\n", want: 'no-restricted-imports' },
    { name: 'telemetry stands below the runtime', file: 'src/telemetry/x.ts', code: "import { Collector } from '../runtime/collector.js';\nexport const c = Collector;\n", want: 'no-restricted-imports' },
    { name: 'the emulator stands below the runtime', file: 'src/emulator/x.ts', code: "import { Collector } from '../runtime/collector.js';\nexport const c = Collector;\n", want: 'no-restricted-imports' },
    { name: 'the emulator does not use the adapters that test it', file: 'src/emulator/x.ts', code: "import { createAdapter } from '../../adapters/registry.js';\nexport const c = createAdapter;\n", want: 'no-restricted-imports' },
    { name: 'the platform imports only ports', file: 'src/platform/x.ts', code: "import { Agent } from '../runtime/agent/index.js';\nexport const a = Agent;\n", want: 'no-restricted-imports' },
    { name: 'a promise is awaited or handled', file: 'src/runtime/x.ts', code: 'async function f(): Promise<void> {}\nexport function g(): void {\n  f();\n}\n', want: '@typescript-eslint/no-floating-promises' },
    { name: 'a promise handed to void is a decision, not an accident', file: 'src/runtime/x.ts', code: 'async function f(): Promise<void> {}\nexport function g(): void {\n  void f();\n}\n', want: undefined },
    // core/model/types.ts is imported by core/model/pipeline.ts: importing pipeline back would close a cycle.
    { name: 'no import cycle', file: 'src/core/model/types.ts', code: "import { validatePipeline } from './pipeline.js';\nexport const v = validatePipeline;\n", want: 'local/no-import-cycle' },
    { name: 'no file over 450 lines', file: 'src/runtime/x.ts', code: 'export const a = 1;\n'.repeat(451), want: 'max-lines' },
    { name: 'a file of 450 lines is fine', file: 'src/runtime/x.ts', code: Array.from({ length: 450 }, (_, i) => `export const a${i} = ${i};`).join('\n') + '\n', want: undefined },
    { name: 'no function over 120 lines', file: 'adapters/common/x.ts', code: `export function f(): number {\n  let n = 0;\n${'  n++;\n'.repeat(118)}  return n;\n}\n`, want: 'max-lines-per-function' },
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

describe('lint: the core has rooms', () => {
  it('no loose file in src/core: each lives in a named room (model, arrival, observe, sim, …)', async () => {
    const { readdirSync } = await import('node:fs');
    const loose = readdirSync('src/core', { withFileTypes: true }).filter((e) => !e.isDirectory()).map((e) => e.name);
    expect(loose).to.deep.equal([]);
  });
});
