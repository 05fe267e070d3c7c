// What the three emulated servers share around the engine: the options every one takes, the
// request overhead outside the batcher, and starting listeners without leaking engines on failure.
import { pause } from '../engine/deadline-timer.js';
import type { InferenceOutcome, ModelEngine } from '../engine/index.js';
import type { ModelProfile } from '../../core/model/types.js';

/** Options every emulated server takes. */
export interface EmulatorBaseOptions {
  /** Profiles (e.g. from readProfileFile); every model is served. */
  readonly profiles: readonly ModelProfile[];
  /** Serve each model's profile on this hardware (default: each model's first profile). */
  readonly hardware?: string;
  /**
   * A fixed time (ms, fractional) added to every inference request outside the batching engine:
   * after its batch finishes, before the reply, as a real server's HTTP and (de)serialisation
   * work. Not counted in the server's statistics. Default 0 (docs/emulator.md has measured values).
   */
  readonly requestOverheadMs?: number;
  /** Nanosecond time source for the statistics. */
  readonly now?: () => bigint;
}

/** One inference request of `size` items through the engine, then the server's fixed overhead. */
export async function serveOnEngine(engine: ModelEngine, size: number, requestOverheadMs: number | undefined): Promise<InferenceOutcome> {
  const outcome = await engine.submit(size);
  await pause(requestOverheadMs ?? 0);
  return outcome;
}

/** Runs `start` (the listeners); if it fails, `cleanUp` (stop the engines, remove files) and rethrow. */
export async function startOrCleanUp<T>(start: () => Promise<T>, cleanUp: () => void | Promise<void>): Promise<T> {
  try {
    return await start();
  } catch (err) {
    await cleanUp();
    throw err;
  }
}
