// How the CLI turns errors into exit codes: 2 for bad input (usage, config, trace, plan files),
// 1 for failures. Never a stack trace for bad input.
import { InvalidInputError } from '../core/model/errors.js';

/** A problem with how the command was called or with a file it was given. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_BAD_INPUT = 2;

/** Errors that mean "the input was bad": exit 2 with the message only. */
export function isBadInput(err: unknown): boolean {
  return err instanceof UsageError || err instanceof InvalidInputError ||
    (err instanceof Error && (err.name === 'ConfigError' || err.name === 'InvalidInputError'));
}
