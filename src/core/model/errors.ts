// Typed errors of the core. Each has a stable `name`; callers map them to exit codes and messages.

/** One problem with an input: where (a path such as `pipelines[0].stages[1].next[0].fraction`) and what. */
export interface Problem {
  readonly path: string;
  readonly message: string;
}

/** Input the core cannot use: a bad profile, pipeline, trace or spec. Lists every problem found. */
export class InvalidInputError extends Error {
  override readonly name = 'InvalidInputError';
  readonly problems: readonly Problem[];

  constructor(what: string, problems: readonly Problem[], options?: { cause?: unknown }) {
    super(`${what}:\n${problems.map((p) => `  ${p.path ? `${p.path}: ` : ''}${p.message}`).join('\n')}`, options);
    this.problems = problems;
  }
}

/** Formats a path from segments: ['a', 0, 'b'] → `a[0].b`. */
export function formatPath(segments: readonly (string | number)[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else out += out === '' ? s : `.${s}`;
  }
  return out;
}
