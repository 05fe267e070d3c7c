// What each server kind does with a batch delay: where it counts the delay from, and the finest
// delay it can be given. A stage that names its server (StageSpec.server) is simulated by its
// server's rule and planned only with delays that server can be given; a stage that names none
// gets Triton's rule and any delay (the planner's default, as before stages named servers).
// (reference/server-apis.md: Triton's max_queue_delay_microseconds and TF Serving's
// batch_timeout_micros are whole microseconds from the oldest queued request; TorchServe's
// maxBatchDelay is whole milliseconds, counted by a worker from when it took the first request.)
import type { StageServerKind } from '../model/types.js';

/**
 * A server's batch-delay rule. 'oldest-request': the delay counts from the oldest queued query,
 * and a free replica takes every queued query (up to the max batch) once it has run out.
 * 'batch-start': from the moment a free replica began forming the batch (TorchServe).
 * 'payload': Triton's dynamic batcher as traced (docs/replay-real-servers.md): from the oldest
 * queued query, but the batch is fixed when the delay runs out even while every replica is busy,
 * and a query arriving while it waits joins it only if it wakes the batcher (the queue reaching
 * next_preferred_batch_size: 0 once the waiting batch started, the max batch − k once the batcher
 * waited for a delay or grew a batch); the next batch begins when the waiting one starts.
 */
export type DelayOrigin = 'oldest-request' | 'batch-start' | 'payload';

/** The rules as the simulation's per-stage codes. */
export const RULE_BATCH_START = 1;
export const RULE_PAYLOAD = 2;
export const DELAY_RULE: Readonly<Record<DelayOrigin, number>> = { 'oldest-request': 0, 'batch-start': RULE_BATCH_START, payload: RULE_PAYLOAD };

/** The batch-delay rule of a server kind; a stage that names none gets the oldest-request rule. */
export function delayOriginOf(server: StageServerKind | undefined): DelayOrigin {
  return server === 'torchserve' ? 'batch-start' : server === 'triton' ? 'payload' : 'oldest-request';
}

/** The server's unit of batch delay, in ms. */
export function delayStepMs(server: StageServerKind | undefined): number {
  return server === 'torchserve' ? 1 : 0.001;
}

/**
 * A wanted delay as the server can be given it: rounded to the server's unit (TorchServe: whole
 * milliseconds; the others: microseconds), never below 0.
 */
export function applicableDelayMs(server: StageServerKind | undefined, ms: number): number {
  if (!(ms > 0)) return 0;
  const step = delayStepMs(server);
  return Math.round(Math.round(ms / step) * step * 1000) / 1000;
}

/** True when `ms` can be given to the server as it is. */
export function isApplicableDelay(server: StageServerKind | undefined, ms: number): boolean {
  return ms >= 0 && Math.abs(applicableDelayMs(server, ms) - ms) < 1e-9;
}

/**
 * A delay the planner tries: to 0.1 ms (a finer step changes little), then as the stage's server
 * can be given it, so that what is planned is what the agent can apply.
 */
export function plannedDelayMs(server: StageServerKind | undefined, ms: number): number {
  return applicableDelayMs(server, Math.round(ms * 10) / 10);
}
