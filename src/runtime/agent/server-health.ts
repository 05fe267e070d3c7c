// The agent's link to its model server: attaching at start (listing its models until it answers),
// and whether it answers its scrapes since. One slow scrape on a busy host is not a dead server: only after SILENT_AFTER_SCRAPES unanswered scrapes in a row does it count as not
// answering (said once, and /readyz turns 503), and its first answer after that is said once too.
import type { Clock } from '../../ports/clock.js';
import type { Logger } from '../../ports/logger.js';
import type { ServerAdapter } from '../../ports/server-adapter.js';
import { errorTypeOf } from './peer-client.js';

/** Scrapes in a row the server must leave unanswered before it counts as not answering. */
const SILENT_AFTER_SCRAPES = 3;

export interface ServerHealthOptions {
  readonly agentId: string;
  readonly adapter: ServerAdapter;
  readonly clock: Clock;
  readonly log: Logger;
}

export class ServerHealth {
  private readonly o: ServerHealthOptions;
  /** Since when the server has not answered a scrape (unreachable or timed out), and why. */
  private silent: { sinceMs: number; message: string } | undefined;
  /** Scrapes in a row the server did not answer, since when. */
  private unanswered: { sinceMs: number; count: number } | undefined;
  private attachedNow = false;
  private attachFailure: string | undefined;

  constructor(options: ServerHealthOptions) {
    this.o = options;
  }

  /** Since when the server has not answered, and why; undefined while it answers. */
  get silence(): { readonly sinceMs: number; readonly message: string } | undefined {
    return this.silent;
  }

  get attached(): boolean {
    return this.attachedNow;
  }

  /** Why the server could not be reached at start, while it cannot. */
  get attachError(): string | undefined {
    return this.attachFailure;
  }

  /**
   * Lists the server's models until it answers (or `signal` aborts), retrying every `retryMs`;
   * returns the `wanted` ones (default: all it has), undefined when stopped first.
   */
  async attach(wanted: readonly string[] | undefined, retryMs: number, signal: AbortSignal): Promise<readonly string[] | undefined> {
    const { log, agentId } = this.o;
    while (!signal.aborted) {
      try {
        const all = await this.o.adapter.models();
        const known = new Set(all.map((m) => m.model));
        const models = wanted ?? [...known].sort();
        const missing = models.filter((m) => !known.has(m));
        if (missing.length > 0) log.warn(`models not on the server (yet): ${missing.join(', ')}`, { agent: agentId });
        this.attachedNow = true;
        this.attachFailure = undefined;
        return models;
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        if (this.attachFailure !== message) log.warn(`cannot reach the server yet: ${message}`, { agent: agentId });
        this.attachFailure = message;
      }
      await this.o.clock.sleep(retryMs, signal).catch(() => undefined);
    }
    return undefined;
  }

  /** Why the agent is not ready as far as its server goes (not attached, not answering); undefined when it is. */
  notReadyReason(): string | undefined {
    if (!this.attachedNow) return `not attached to the server${this.attachFailure ? `: ${this.attachFailure}` : ''}`;
    if (this.silent !== undefined) return `the server is not answering: ${this.silent.message}`;
    return undefined;
  }

  /** A scrape failed: counts when the server did not answer at all. */
  onScrapeError(err: unknown): void {
    if (!notAnswering(err)) return;
    const now = this.o.clock.nowMs();
    const message = err instanceof Error ? err.message : String(err);
    this.unanswered ??= { sinceMs: now, count: 0 };
    this.unanswered.count++;
    if (this.silent !== undefined || this.unanswered.count < SILENT_AFTER_SCRAPES) return;
    this.silent = { sinceMs: this.unanswered.sinceMs, message };
    this.o.log.error(`server ${this.o.adapter.endpoint} is not answering: ${message}`, { agent: this.o.agentId });
  }

  onAnswered(): void {
    this.unanswered = undefined;
    const silent = this.silent;
    if (silent === undefined) return;
    this.silent = undefined;
    this.o.log.info(`server ${this.o.adapter.endpoint} answers again (after ${Math.round((this.o.clock.nowMs() - silent.sinceMs) / 1000)} s)`, { agent: this.o.agentId });
  }
}

/** The server did not answer at all (as opposed to answering with an error): the error types of no answer. */
function notAnswering(err: unknown): boolean {
  const type = errorTypeOf(err);
  return type === 'timeout' || type === 'unreachable';
}
