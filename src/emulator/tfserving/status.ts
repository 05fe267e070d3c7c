// The emulated TF Serving's errors: a TF status code (with the HTTP status it maps to) and a message.

/** A TF status: code name and HTTP status (http_server.cc ToHTTPStatusCode). */
export class TfStatus extends Error {
  constructor(readonly code: 'INVALID_ARGUMENT' | 'NOT_FOUND' | 'UNAVAILABLE' | 'INTERNAL', message: string) {
    super(message);
  }

  get http(): number {
    return { INVALID_ARGUMENT: 400, NOT_FOUND: 404, UNAVAILABLE: 503, INTERNAL: 500 }[this.code];
  }
}

export const invalid = (m: string): TfStatus => new TfStatus('INVALID_ARGUMENT', m);
