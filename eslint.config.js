// Lint, including the layering rules of DESIGN.md: the pure core does no I/O, reads no clock and
// draws no unseeded randomness; only the CLI composes concrete adapters and backends.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import local from './eslint-rules/no-import-cycle.js';

const nodeBuiltins = [
  'fs', 'fs/promises', 'http', 'https', 'net', 'dgram', 'child_process', 'worker_threads',
  'os', 'path', 'process', 'timers', 'timers/promises', 'readline', 'cluster', 'dns', 'tls',
];

// The shell's rooms, lowest first: ports and platform (clock, periodic task) are the ground floor;
// adapters, coordination, telemetry and the emulator stand on it and never reach up into the
// runtime or the CLI; only src/cli composes concrete adapters and backends.
const NOT_RUNTIME_OR_CLI = {
  group: ['**/runtime/**', '**/cli/**'],
  message: 'Adapters, coordination, telemetry and the emulator stand below the runtime and the CLI: take a clock or periodic task from src/platform, or have the caller inject it.',
};

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
    // Type-aware rules (a promise nobody awaits or handles) need the program.
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { local },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      'local/no-import-cycle': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': ['error', {
        selector: 'ExportAllDeclaration',
        message: 'No `export *`: name the public surface in index.ts.',
      }],
    },
  },
  // Small units (STYLE.md §12, issue #18): a file holds one concept and a function reads alone.
  {
    files: ['src/**/*.ts', 'adapters/**/*.ts'],
    rules: {
      'max-lines': ['error', { max: 450 }],
      'max-lines-per-function': ['error', { max: 120 }],
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
        { object: 'Math', property: 'random', message: 'src/core uses seeded streams (core/math/random.ts).' },
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
    files: ['src/runtime/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ group: ['**/cli/**', '**/adapters/**', '**/coordination/**'], message: 'Only the composition roots in src/cli wire concrete adapters and backends.' }, OTEL_ONLY_IN_TELEMETRY],
      }],
    },
  },
  {
    // The config builds agent.server's schema from the adapters' pure settings files, and nothing else of theirs.
    files: ['src/config/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{
          group: ['**/cli/**', '**/coordination/**'],
          message: 'Only the composition roots in src/cli wire concrete adapters and backends.',
        }, {
          regex: '(^|/)adapters(/(?!settings\\.js$|[^/]+/settings\\.js$)|$)',
          message: 'Only the composition roots in src/cli wire concrete adapters; src/config imports only the pure adapters/settings.js and adapters/<kind>/settings.js.',
        }, OTEL_ONLY_IN_TELEMETRY],
      }],
    },
  },
  {
    files: ['src/platform/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ group: ['**/runtime/**', '**/cli/**', '**/adapters/**', '**/coordination/**', '**/telemetry/**', '**/emulator/**', '**/config/**'], message: 'src/platform is the ground floor: it imports only ports.' }, OTEL_ONLY_IN_TELEMETRY],
      }],
    },
  },
  {
    files: ['adapters/**/*.ts', 'src/coordination/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [NOT_RUNTIME_OR_CLI, OTEL_ONLY_IN_TELEMETRY] }],
    },
  },
  {
    files: ['src/telemetry/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [NOT_RUNTIME_OR_CLI] }],
    },
  },
  {
    files: ['src/emulator/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [NOT_RUNTIME_OR_CLI, {
          group: ['**/adapters/**'],
          message: 'The emulator stands in for a server: it may not use the adapters that test it (they would agree by construction).',
        }, OTEL_ONLY_IN_TELEMETRY],
      }],
    },
  },
  {
    files: ['src/cli/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [OTEL_ONLY_IN_TELEMETRY] }],
    },
  },
);
