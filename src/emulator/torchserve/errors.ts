// The emulated TorchServe's error replies: TorchServe's ErrorResponse {code, type, message} as a
// typed error the handlers throw, the common ones by name, and its JSON as Gson writes it.
import type { HttpReply } from '../common/http.js';

/** Errors as TorchServe's ErrorResponse: {code, type, message}. */
export class TsError extends Error {
  constructor(readonly status: number, readonly type: string, message: string) {
    super(message);
  }
}

const NOT_FOUND = 'Requested resource is not found, please refer to API document.';
const NOT_ALLOWED = 'Requested method is not allowed, please refer to API document.';
export const INVALID_KEY = 'Token Authorization failed. Token either incorrect, expired, or not provided correctly';
export const TOKEN_API_FAILED = 'Token Authentication failed. Token either incorrect, expired, or not provided correctly';
export const resourceNotFound = (): TsError => new TsError(404, 'ResourceNotFoundException', NOT_FOUND);
export const methodNotAllowed = (): TsError => new TsError(405, 'MethodNotAllowedException', NOT_ALLOWED);
export const modelNotFound = (m: string): TsError => new TsError(404, 'ModelNotFoundException', `Model not found: ${m}`);

/** A JSON reply as TorchServe sends it: Gson pretty-printed (HTML-safe escapes), newline-terminated. */
export function tsJson(status: number, body: unknown): HttpReply {
  const text = JSON.stringify(body, null, 2)
    .replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026').replace(/=/g, '\\u003d').replace(/'/g, '\\u0027');
  return { status, headers: { 'Content-Type': 'application/json' }, body: `${text}\n` };
}

/** The reply of a thrown TsError; anything else is thrown on (a 500 from the HTTP layer). */
export function errorReply(err: unknown): HttpReply {
  if (!(err instanceof TsError)) throw err;
  return tsJson(err.status, { code: err.status, type: err.type, message: err.message });
}
