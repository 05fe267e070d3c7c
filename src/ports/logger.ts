// The Logger port: what the shell says about itself. One line per event, with structured fields;
// the CLI writes them to stderr (text on a terminal, JSON lines otherwise), tests keep them.
export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export const silentLogger: Logger = Object.freeze({ info: () => undefined, warn: () => undefined, error: () => undefined });
