// The demo's side of the load generator process (load-process.ts): starts it with the event-loop
// probe, hands it the trace and the stages, relays what it reports, and stops it (its process
// group, after it has sent its last figures).
import { join } from 'node:path';
import { spawnCliProcess, stopCliProcess } from '../../emulator/cli-process.js';
import type { CliProcess } from '../../emulator/cli-process.js';
import { probeExecArgv } from './fleet.js';
import type { LoadProgressMessage, LoadStartMessage, LoadStoppedMessage } from './load-wire.js';
import type { LoopReport } from './loop-probe.js';
import { PROBE_RESET } from './loop-probe.js';

export interface LoadRunnerOptions {
  readonly logDir: string;
  readonly onProgress: (m: LoadProgressMessage) => void;
  readonly onLoop: (r: LoopReport) => void;
}

export class LoadRunner {
  private readonly child: CliProcess;
  private readyWaiters: ((err?: Error) => void)[] = [];
  private stoppedWaiters: ((m: LoadStoppedMessage | undefined) => void)[] = [];
  private ready = false;
  private hello = false;
  private helloWaiters: (() => void)[] = [];
  private stopped: LoadStoppedMessage | undefined;

  private constructor(o: LoadRunnerOptions) {
    this.child = spawnCliProcess([], {
      script: new URL('load-process.js', import.meta.url).pathname, // spawnCliProcess maps it to the .ts under tsx
      logFile: join(o.logDir, 'load.log'),
      execArgv: probeExecArgv(),
      onMessage: (raw) => {
        const m = raw as { kind?: string; message?: string };
        if (m.kind === 'loop') o.onLoop(raw as LoopReport);
        else if (m.kind === 'progress') o.onProgress(raw as LoadProgressMessage);
        else if (m.kind === 'hello') { this.hello = true; for (const w of this.helloWaiters.splice(0)) w(); }
        else if (m.kind === 'ready') { this.ready = true; for (const w of this.readyWaiters.splice(0)) w(); }
        else if (m.kind === 'error') for (const w of this.readyWaiters.splice(0)) w(new Error(`load generator: ${m.message ?? ''}`));
        else if (m.kind === 'stopped') { this.stopped = raw as LoadStoppedMessage; for (const w of this.stoppedWaiters.splice(0)) w(this.stopped); }
      },
    });
  }

  static start(o: LoadRunnerOptions): LoadRunner {
    return new LoadRunner(o);
  }

  get pid(): number {
    return this.child.pid;
  }

  /** Hands over the trace and the stages; resolves once the generator has warmed its connections. */
  async prepare(m: Omit<LoadStartMessage, 'kind'>, timeoutMs = 30_000): Promise<void> {
    if (!this.hello) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`load generator (pid ${this.child.pid}) not started within ${timeoutMs} ms: ${this.child.exited() ?? 'no answer'}; log ${this.child.logFile}`)), timeoutMs);
        this.helloWaiters.push(() => { clearTimeout(timer); resolve(); });
      });
    }
    if (!this.child.send({ kind: 'start', ...m } satisfies LoadStartMessage)) throw new Error(`load generator (pid ${this.child.pid}) ${this.child.exited() ?? 'not reachable'}; log ${this.child.logFile}`);
    if (this.ready) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`load generator not ready within ${timeoutMs} ms; log ${this.child.logFile}`)), timeoutMs);
      this.readyWaiters.push((err) => {
        clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      });
    });
  }

  go(): void {
    this.child.send(PROBE_RESET);
    this.child.send({ kind: 'go' });
  }

  /** Asks for the last figures, then ends the process group. */
  async stop(timeoutMs = 5_000): Promise<LoadStoppedMessage | undefined> {
    let result = this.stopped;
    if (result === undefined && this.child.send({ kind: 'stop' })) {
      result = await new Promise<LoadStoppedMessage | undefined>((resolve) => {
        const timer = setTimeout(() => resolve(undefined), timeoutMs);
        this.stoppedWaiters.push((m) => {
          clearTimeout(timer);
          resolve(m);
        });
      });
    }
    await stopCliProcess(this.child.pid, 2_000).catch(() => undefined);
    return result;
  }
}
