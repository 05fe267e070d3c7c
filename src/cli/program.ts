// The `inferline` command line: the composition root. Each command lives in commands/<name>.ts
// and registers itself on the program.
import { Command, CommanderError } from 'commander';
import { EXIT_BAD_INPUT, EXIT_FAILURE, isBadInput } from './errors.js';
import { registerPlan } from './commands/plan.js';
import { registerValidate } from './commands/validate.js';
import { registerDemo } from './commands/demo.js';

export function buildProgram(): Command {
  const program = new Command('inferline')
    .description('Keeps multi-model inference pipelines inside a tail-latency SLO at the lowest hardware cost.')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerDemo(program);
  registerPlan(program);
  registerValidate(program);
  for (const cmd of program.commands) cmd.exitOverride().showHelpAfterError('(run with --help for usage)');
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit 0; usage mistakes are bad input.
      if (err.exitCode === 0 || err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 0;
      return EXIT_BAD_INPUT;
    }
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`inferline: ${message}\n`);
    if (isBadInput(err)) return EXIT_BAD_INPUT;
    if (process.env['INFERLINE_DEBUG'] && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    return EXIT_FAILURE;
  }
}
