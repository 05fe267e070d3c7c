// `inferline validate --config FILE [--json]`: loads a config exactly as the other commands do and
// says whether it is valid. Problems go to stderr through program.ts (a thrown ConfigError is bad
// input: exit 2, the message only, never a stack trace), so every command reports them alike.
import type { Command } from 'commander';
import { ConfigError, loadConfig, type InferlineConfig } from '../../config/index.js';
import { printJson } from '../output.js';
import { printWarnings } from '../warnings.js';
import type { CliContext } from '../context.js';

export interface ValidateSummary {
  readonly pipelines: number;
  readonly stages: number;
  readonly profiles: number;
  readonly hardware: number;
}

export function registerValidate(program: Command, ctx: CliContext): void {
  const { output } = ctx;
  program
    .command('validate')
    .description('validate a config file and list every problem with its path')
    .requiredOption('--config <file>', 'config file (YAML or JSON)')
    .option('--json', 'print the result as JSON on stdout')
    .action(async (options: { config: string; json?: boolean }) => {
      let config: InferlineConfig;
      try {
        config = await loadConfig(options.config);
      } catch (err) {
        if (options.json && err instanceof ConfigError) {
          printJson(output, { valid: false, file: options.config, problems: err.problems });
        }
        throw err;
      }
      const summary = summarise(config);
      const warnings = config.warnings ?? [];
      if (options.json) printJson(output, { valid: true, file: options.config, summary, ...(warnings.length > 0 ? { warnings } : {}) });
      else {
        printWarnings(output, options.config, warnings);
        output.out(`${options.config}: valid — ${describe(summary)}${warnings.length > 0 ? `, ${warnings.length} warning${warnings.length === 1 ? '' : 's'}` : ''}\n`);
      }
    });
}

export function summarise(config: InferlineConfig): ValidateSummary {
  return {
    pipelines: config.pipelines.length,
    stages: config.pipelines.reduce((n, p) => n + p.stages.length, 0),
    profiles: config.profiles.length,
    hardware: config.hardware.length,
  };
}

function describe(s: ValidateSummary): string {
  const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
  return [
    count(s.pipelines, 'pipeline', 'pipelines'),
    count(s.stages, 'stage', 'stages'),
    count(s.profiles, 'profile', 'profiles'),
    count(s.hardware, 'hardware type', 'hardware types'),
  ].join(', ');
}
