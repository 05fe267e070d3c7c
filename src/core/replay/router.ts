// A live query's way through the pipeline DAG, as the estimator routes it: entry at every root;
// when a stage finishes, each outgoing edge is taken by the shared seeded draw (edgeTaken); a stage
// with several incoming edges runs once every incoming edge is decided and some were taken (a
// join), and is skipped when none was; a query is done when every stage is finished or skipped.
// Pure bookkeeping: the replay harness does the sending.
import { edgeTaken } from '../model/pipeline.js';
import type { CompiledPipeline } from '../model/pipeline.js';
import { streamKey } from '../math/random.js';

export interface RouteStep {
  /** Stages to send the query to now. */
  readonly send: readonly number[];
  /** True when the query has no stage left. */
  readonly done: boolean;
}

export class QueryRouter {
  private readonly p: CompiledPipeline;
  private readonly S: number;
  private readonly routeKey: number;
  private readonly pendingIn: Uint16Array;
  private readonly takenIn: Uint8Array;
  private readonly unresolved: Int32Array;
  private readonly dead: Uint8Array;

  /** For `queries` queries numbered 0…queries−1, with the estimator's routing stream of `seed`. */
  constructor(pipeline: CompiledPipeline, seed: number, queries: number) {
    this.p = pipeline;
    this.S = pipeline.stageNames.length;
    this.routeKey = streamKey(seed, 'routing');
    this.pendingIn = new Uint16Array(queries * this.S);
    this.takenIn = new Uint8Array(queries * this.S);
    this.unresolved = new Int32Array(queries).fill(this.S);
    this.dead = new Uint8Array(queries);
    for (let q = 0; q < queries; q++) {
      for (let s = 0; s < this.S; s++) this.pendingIn[q * this.S + s] = this.p.inDegree[s] as number;
    }
  }

  /** The query arrives: the roots to send it to. */
  start(): RouteStep {
    const send: number[] = [];
    for (let s = 0; s < this.S; s++) if (this.p.isRoot[s]) send.push(s);
    return { send, done: false };
  }

  /** Stage `s` answered query `q`: the stages to send it to next. */
  finish(q: number, s: number): RouteStep {
    if (this.dead[q]) return { send: [], done: false };
    const send: number[] = [];
    this.leave(q, s, true, send);
    return { send, done: this.unresolved[q] === 0 };
  }

  /** Stage `s` failed query `q`: the query ends here (done once, never again). */
  fail(q: number): RouteStep {
    if (this.dead[q]) return { send: [], done: false };
    this.dead[q] = 1;
    return { send: [], done: true };
  }

  /** Stage s is resolved for q (finished, or skipped): decide its outgoing edges. */
  private leave(q: number, s: number, ran: boolean, send: number[]): void {
    const { edgeStart, edgeTo, edgeFraction } = this.p;
    for (let k = edgeStart[s] as number; k < (edgeStart[s + 1] as number); k++) {
      const to = edgeTo[k] as number;
      const idx = q * this.S + to;
      if (ran && edgeTaken(this.routeKey, q, k, edgeFraction[k] as number)) this.takenIn[idx] = 1;
      const left = (this.pendingIn[idx] as number) - 1;
      this.pendingIn[idx] = left;
      if (left > 0) continue;
      if (this.takenIn[idx]) send.push(to);
      else this.leave(q, to, false, send);
    }
    this.unresolved[q] = (this.unresolved[q] as number) - 1;
  }
}
