// Bounded open-loop load while a model's replicas go up and down: requests leave on a fixed
// schedule whatever the answers do (at most `maxOutstanding` at once, and only while the steps
// run), and every request's outcome is counted. For the scale-down tests: lowering replicas must
// fail no request, queued or in flight.
import { setTimeout as sleep } from 'node:timers/promises';

export interface ScaleUnderLoadOptions {
  /** Sends one request; rejects when the server failed it. */
  readonly send: () => Promise<unknown>;
  /** Sets the replicas (the adapter's call); resolves when the server applied it. */
  readonly setReplicas: (n: number) => Promise<unknown>;
  readonly rateQps: number;
  /** Replica counts applied one after the other under load, e.g. [1, 4, 1, 4, 1]. */
  readonly steps: readonly number[];
  /** How long each count is held once applied (ms). */
  readonly holdMs: number;
  /** At most this many requests outstanding: a send beyond it is skipped (and counted). */
  readonly maxOutstanding: number;
  /**
   * Stop sending once this long has passed (ms from the start), even in the middle of a change,
   * and let the change finish without load; the steps not begun are skipped. Real Triton removes
   * an instance only once it is idle, which under steady load took minutes (docs/scale-down.md):
   * without load it is at once. Default: no limit.
   */
  readonly budgetMs?: number;
}

export interface ScaleUnderLoadResult {
  readonly sent: number;
  readonly answered: number;
  readonly failed: number;
  readonly skipped: number;
  /** The first few failures' messages. */
  readonly errors: readonly string[];
  /** Steps that lowered the replicas. */
  readonly scaleDowns: number;
  /** How long each setReplicas call took (ms). */
  readonly changeMs: readonly number[];
  /** The slowest answered request (ms): a change that stalls requests shows here before it fails them. */
  readonly slowestMs: number;
  /** The load stopped at budgetMs, before every step was applied under it. */
  readonly outOfBudget: boolean;
}

export async function scaleUnderLoad(o: ScaleUnderLoadOptions): Promise<ScaleUnderLoadResult> {
  let sent = 0;
  let answered = 0;
  let failed = 0;
  let skipped = 0;
  let slowestMs = 0;
  const errors: string[] = [];
  const inFlight = new Set<Promise<void>>();
  let running = true;
  const intervalMs = 1000 / o.rateQps;
  const load = (async () => {
    const t0 = performance.now();
    let next = 0;
    while (running) {
      // Every request whose time has come leaves now: the schedule does not wait for answers.
      while (running && t0 + next * intervalMs <= performance.now()) {
        next++;
        if (inFlight.size >= o.maxOutstanding) {
          skipped++;
          continue;
        }
        sent++;
        const sentAt = performance.now();
        const p: Promise<void> = o.send().then(() => {
          answered++;
          slowestMs = Math.max(slowestMs, performance.now() - sentAt);
        }, (err: unknown) => {
          failed++;
          if (errors.length < 5) errors.push(err instanceof Error ? err.message : String(err));
        }).finally(() => { inFlight.delete(p); });
        inFlight.add(p);
      }
      await sleep(Math.max(1, t0 + next * intervalMs - performance.now()));
    }
  })();
  const changeMs: number[] = [];
  let scaleDowns = 0;
  let previous: number | undefined;
  let outOfBudget = false;
  // Past the budget the load stops, even mid-change, and the change finishes without it.
  const watchdog = o.budgetMs === undefined ? undefined : setTimeout(() => {
    outOfBudget = true;
    running = false;
  }, o.budgetMs);
  try {
    await sleep(o.holdMs);
    for (const n of o.steps) {
      if (outOfBudget) break;
      const t = performance.now();
      await o.setReplicas(n);
      changeMs.push(Math.round(performance.now() - t));
      if (previous !== undefined && n < previous) scaleDowns++;
      previous = n;
      if (outOfBudget) break;
      await sleep(o.holdMs);
    }
  } finally {
    clearTimeout(watchdog);
    running = false;
    await load;
    await Promise.all([...inFlight]);
  }
  return { sent, answered, failed, skipped, errors, scaleDowns, changeMs, slowestMs: Math.round(slowestMs), outOfBudget };
}
