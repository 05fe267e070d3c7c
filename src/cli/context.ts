// What a command needs from its surroundings: where to write, and where to leave its exit code.
// Commands never touch process.stdout or process.exitCode directly, so the whole program runs
// in-process in tests.
import type { Output } from './output.js';

export interface CliContext {
  readonly output: Output;
  /** The exit code the command asks for when it returns normally (failures throw instead). */
  exitCode: number;
}
