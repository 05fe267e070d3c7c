// The `inferline` command line: the composition root. Each command lives in commands/<name>.ts
// and registers itself on the program.
import { Command, CommanderError } from 'commander';
import { EXIT_BAD_INPUT, EXIT_FAILURE, isBadInput } from './errors.js';
import { processOutput } from './output.js';
import type { Output } from './output.js';
import type { CliContext } from './context.js';
import { registerPlan } from './commands/plan.js';
import { registerValidate } from './commands/validate.js';
import { registerDemo } from './commands/demo.js';
import { registerSimulate } from './commands/simulate.js';
import { registerEmulate } from './commands/emulate.js';
import { registerInspect } from './commands/inspect.js';
import { registerProfile } from './commands/profile.js';
import { registerAgent } from './commands/agent.js';
import { registerReplay } from './commands/replay.js';

const HELP_HINT = '(run with --help for usage)';

export function buildProgram(ctx: CliContext): Command {
  const io = { writeOut: (s: string) => ctx.output.out(s), writeErr: (s: string) => ctx.output.err(s) };
  const program = new Command('inferline')
    .description('Keeps multi-model inference pipelines inside a tail-latency SLO at the lowest hardware cost.')
    .version('0.1.0')
    .exitOverride()
    .configureOutput(io)
    .showHelpAfterError(HELP_HINT);
  registerDemo(program, ctx);
  registerPlan(program, ctx);
  registerSimulate(program, ctx);
  registerValidate(program, ctx);
  registerEmulate(program, ctx);
  registerInspect(program, ctx);
  registerProfile(program, ctx);
  registerAgent(program, ctx);
  registerReplay(program, ctx);
  for (const cmd of program.commands) cmd.exitOverride().configureOutput(io).showHelpAfterError(HELP_HINT);
  return program;
}

/** Runs the CLI and returns its exit code: 0 ok, 1 failure, 2 bad input. Never throws. */
export async function main(argv: readonly string[], output: Output = processOutput): Promise<number> {
  const ctx: CliContext = { output, exitCode: 0 };
  const program = buildProgram(ctx);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return ctx.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit 0; usage mistakes are bad input.
      return err.exitCode === 0 ? 0 : EXIT_BAD_INPUT;
    }
    const message = err instanceof Error ? err.message : String(err);
    output.err(`inferline: ${message}\n`);
    if (isBadInput(err)) return EXIT_BAD_INPUT;
    if (process.env['INFERLINE_DEBUG'] && err instanceof Error && err.stack) output.err(`${err.stack}\n`);
    return EXIT_FAILURE;
  }
}
