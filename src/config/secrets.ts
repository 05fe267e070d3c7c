// Which config settings are secrets, so that no log line, API response, error message or diff ever
// shows their values: the agent's bearer token, the TorchServe key, the Triton restricted-API header
// value, the OTLP push headers, and any setting whose name says it is one. Decided on the setting's
// path, never on the value.

/** What is shown in place of a secret's value. */
export const REDACTED = '<redacted>';

const SECRET_PATHS: readonly (readonly string[])[] = [
  ['agent', 'api', 'token'],
  ['agent', 'server', 'token'],
  ['agent', 'server', 'header'],
  ['telemetry', 'otlp', 'headers'],
];

const SECRET_NAME = /^(token|password|passwd|secret|credential|authorization|api[-_]?key|bearer)$/i;

/** Whether the setting at `path` (or a setting inside it) is a secret. */
export function isSecretPath(path: readonly (string | number)[]): boolean {
  const keys = path.map(String);
  if (SECRET_PATHS.some((p) => p.every((k, i) => keys[i] === k))) return true;
  return keys.some((k) => SECRET_NAME.test(k));
}
