// The one error the config loader throws: every problem found in a config file (and the files and
// environment variables it draws on), so a user fixes them all in one pass instead of one per run.
import type { Problem } from '../core/model/errors.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  /** The config file, as it was named to the loader. */
  readonly file: string;
  readonly problems: readonly Problem[];

  constructor(file: string, problems: readonly Problem[], options?: { cause?: unknown }) {
    super(formatProblems(file, problems), options);
    this.file = file;
    this.problems = problems;
  }
}

/** Problems a message lists before counting the rest (`--json` of validate lists them all). */
export const MAX_LISTED_PROBLEMS = 50;

/**
 * `file: message` for one pathless problem; otherwise a count and one indented line per problem,
 * the first MAX_LISTED_PROBLEMS of them, then how many more.
 */
export function formatProblems(file: string, problems: readonly Problem[]): string {
  const only = problems[0];
  if (problems.length === 1 && only !== undefined && only.path === '') return `${file}: ${only.message}`;
  const head = `${file}: invalid config, ${problems.length} problem${problems.length === 1 ? '' : 's'}:`;
  const shown = problems.slice(0, MAX_LISTED_PROBLEMS).map((p) => `  ${p.path === '' ? '' : `${p.path}: `}${p.message}`);
  const more = problems.length - MAX_LISTED_PROBLEMS;
  return [head, ...shown, ...(more > 0 ? [`  … and ${more} more (validate --json lists them all)`] : [])].join('\n');
}
