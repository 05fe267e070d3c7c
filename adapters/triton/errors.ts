// The two typed failures of the Triton adapter's pure modules. index.ts turns them into an
// AdapterError that names the server, the endpoint and the status ('malformed' / 'unsupported').

/** A body that breaks the wire contract: not JSON, a wrong type, a negative or inexact counter. */
export class MalformedBodyError extends Error {
  override readonly name = 'MalformedBodyError';
  /** Where in the body, e.g. `model_stats[0].inference_stats.queue.ns` ('' for the whole body). */
  readonly path: string;

  constructor(path: string, problem: string, options?: { cause?: unknown }) {
    super(path === '' ? problem : `${path}: ${problem}`, options);
    this.path = path;
  }
}

/** A change or request this model (or this server mode) cannot take. */
export class UnsupportedChangeError extends Error {
  override readonly name = 'UnsupportedChangeError';
}
