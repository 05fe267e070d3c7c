// What the demo and its load generator process (load-process.ts) say to each other over IPC.
import type { CompletedQuery } from './load.js';

export interface LoadStartMessage {
  readonly kind: 'start';
  readonly stages: readonly { readonly name: string; readonly model: string; readonly server: Readonly<Record<string, unknown>>; readonly next: readonly { readonly stage: string; readonly fraction: number }[] }[];
  readonly entry: string;
  readonly trace: readonly number[];
  readonly seed: number;
  readonly timeoutMs: number;
}

/** A completed query on the wire: [arrival ms, latency ms (-1 when it failed), ok]. */
export type WireQuery = readonly [number, number, boolean];

export interface LoadProgressMessage {
  readonly kind: 'progress';
  readonly arrivals: readonly number[];
  readonly queries: readonly WireQuery[];
  /** Largest send slip since the last progress message, ms. */
  readonly slipMaxMs: number;
}

export interface LoadStoppedMessage {
  readonly kind: 'stopped';
  readonly sent: number;
  readonly slip: { readonly p50Ms: number; readonly p99Ms: number; readonly maxMs: number };
}

export function fromWire(q: WireQuery): CompletedQuery {
  return { atMs: q[0], latencyMs: q[2] ? q[1] : Number.POSITIVE_INFINITY, ok: q[2] };
}

