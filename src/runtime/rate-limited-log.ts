// Repeated warnings of one kind, bounded: the first of a kind is logged at once; the next ones
// within the interval are only counted, and the first one after it is logged with that count
// ("… (12 more like it in the last 10 s)"). A flaky backend then costs one line per kind per
// interval, not one per retry. Kinds are stable keys the caller chooses (an error's name and
// operation), never message text.
import type { Clock } from '../ports/clock.js';
import type { LogFields, Logger } from '../ports/logger.js';

export interface RateLimitedLogOptions {
  readonly log: Logger;
  readonly clock: Clock;
  readonly intervalMs: number;
}

export class RateLimitedLog {
  private readonly o: RateLimitedLogOptions;
  private readonly kinds = new Map<string, { loggedAtMs: number; suppressed: number }>();

  constructor(options: RateLimitedLogOptions) {
    this.o = options;
  }

  warn(kind: string, message: string, fields?: LogFields): void {
    this.line('warn', kind, message, fields);
  }

  error(kind: string, message: string, fields?: LogFields): void {
    this.line('error', kind, message, fields);
  }

  /** Suppressed lines per kind, since each kind was last logged. */
  get suppressed(): ReadonlyMap<string, number> {
    return new Map([...this.kinds].map(([k, v]) => [k, v.suppressed]));
  }

  private line(level: 'warn' | 'error', kind: string, message: string, fields?: LogFields): void {
    const now = this.o.clock.nowMs();
    const k = this.kinds.get(kind);
    if (k !== undefined && now - k.loggedAtMs < this.o.intervalMs) {
      k.suppressed++;
      return;
    }
    const more = k !== undefined && k.suppressed > 0 ? ` (${k.suppressed} more like it in the last ${Math.round((now - k.loggedAtMs) / 1000)} s)` : '';
    this.kinds.set(kind, { loggedAtMs: now, suppressed: 0 });
    this.o.log[level](`${message}${more}`, fields);
  }
}
