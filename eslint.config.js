// Lint, including the layering rules of DESIGN.md: the pure core does no I/O, reads no clock and
// draws no unseeded randomness; only the CLI composes concrete adapters and backends.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [
  'fs', 'fs/promises', 'http', 'https', 'net', 'dgram', 'child_process', 'worker_threads',
  'os', 'path', 'process', 'timers', 'timers/promises', 'readline', 'cluster', 'dns', 'tls',
];

// OpenTelemetry is imported in src/telemetry only: the rest records through the Telemetry port,
// and the composition roots get the SDK through createTelemetry.
const OTEL_ONLY_IN_TELEMETRY = {
  group: ['@opentelemetry/*'],
  message: 'Record through the Telemetry port (src/ports/telemetry.ts); only src/telemetry imports OpenTelemetry.',
};

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'coverage/', '.scratch/', '.ci/venv/', '.ci/out/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': ['error', {
        selector: 'ExportAllDeclaration',
        message: 'No `export *`: name the public surface in index.ts.',
      }],
    },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [
          ...nodeBuiltins.flatMap((m) => [m, `node:${m}`]).map((name) => ({
            name, message: 'src/core is pure: no I/O. Move this to src/runtime or src/cli.',
          })),
          { name: 'axios', message: 'src/core is pure: no I/O.' },
        ],
        patterns: [{
          group: ['**/runtime/**', '**/cli/**', '**/coordination/**', '**/telemetry/**', '**/emulator/**', '**/config/**', '**/adapters/**'],
          message: 'src/core imports nothing outside src/core (type-only imports from ports are allowed).',
        }, OTEL_ONLY_IN_TELEMETRY],
      }],
      'no-restricted-globals': ['error',
        { name: 'setTimeout', message: 'src/core has no timers: time comes in as a value.' },
        { name: 'setInterval', message: 'src/core has no timers: time comes in as a value.' },
        { name: 'setImmediate', message: 'src/core has no timers.' },
        { name: 'process', message: 'src/core reads no environment or process state.' },
        { name: 'fetch', message: 'src/core is pure: no I/O.' },
      ],
      'no-restricted-properties': ['error',
        { object: 'Date', property: 'now', message: 'src/core reads no clock: take nowMs as a value.' },
        { object: 'Math', property: 'random', message: 'src/core uses seeded streams (core/random.ts).' },
        { object: 'performance', property: 'now', message: 'src/core reads no clock.' },
      ],
      'no-restricted-syntax': ['error',
        { selector: 'ExportAllDeclaration', message: 'No `export *`.' },
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'src/core reads no clock.' },
      ],
    },
  },
  {
    files: ['src/ports/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ group: ['**/runtime/**', '**/cli/**', '**/adapters/**', '**/coordination/**'], message: 'ports are interfaces only.' }, OTEL_ONLY_IN_TELEMETRY],
      }],
    },
  },
  {
    files: ['src/runtime/**/*.ts', 'src/config/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ group: ['**/cli/**', '**/adapters/**', '**/coordination/**'], message: 'Only the composition roots in src/cli wire concrete adapters and backends.' }, OTEL_ONLY_IN_TELEMETRY],
      }],
    },
  },
  {
    files: ['adapters/**/*.ts', 'src/cli/**/*.ts', 'src/coordination/**/*.ts', 'src/emulator/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [OTEL_ONLY_IN_TELEMETRY] }],
    },
  },
);
