// A DeadlineTimer for tests: time moves only when the test advances it; deadlines fire in time
// order (ties in the order they were set), and one set while advancing fires in the same advance
// when it is due by then.
import type { DeadlineTimer } from '../../src/emulator/engine/deadline-timer.js';

interface Entry {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
  cancelled: boolean;
}

export class FakeDeadlineTimer implements DeadlineTimer {
  private t: number;
  private seq = 0;
  private entries: Entry[] = [];

  constructor(startMs = 0) {
    this.t = startMs;
  }

  nowMs(): number {
    return this.t;
  }

  at(deadlineMs: number, fn: () => void): () => void {
    const e: Entry = { at: Math.max(deadlineMs, this.t), seq: this.seq++, fn, cancelled: false };
    this.entries.push(e);
    return () => {
      e.cancelled = true;
    };
  }

  /** Deadlines still pending (not fired, not cancelled), in time order. */
  pending(): number[] {
    return this.live().map((e) => e.at);
  }

  /** Moves time forward by `ms`, firing what falls due; lets promise callbacks run after each. */
  async advance(ms: number): Promise<void> {
    await this.advanceTo(this.t + ms);
  }

  async advanceTo(target: number): Promise<void> {
    for (;;) {
      await flush();
      const next = this.live()[0];
      if (next === undefined || next.at > target) break;
      this.entries = this.entries.filter((e) => e !== next);
      this.t = next.at;
      next.fn();
    }
    this.t = Math.max(this.t, target);
    await flush();
  }

  private live(): Entry[] {
    this.entries = this.entries.filter((e) => !e.cancelled);
    return [...this.entries].sort((a, b) => a.at - b.at || a.seq - b.seq);
  }
}

/** Lets queued promise callbacks run. */
async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}
