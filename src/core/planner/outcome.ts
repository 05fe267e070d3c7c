import type { Evaluation } from './context.js';

/** What a search found. */
export interface SearchOutcome {
  /** The cheapest configuration meeting the SLO, or, when none does, the one closest to it. */
  readonly best: Evaluation;
  readonly feasible: boolean;
  /**
   * When infeasible: the lowest SLO-percentile latency reached. When even an empty pipeline
   * cannot meet it (the batch-1 latencies along the slowest path exceed the SLO), this bound.
   */
  readonly lowestReachableMs?: number;
  /** Exact search only: false when it ran out of its evaluation budget before proving optimality. */
  readonly proven?: boolean;
  /**
   * Exact search only: a lower bound on the cost of any plan meeting the SLO that the search
   * itself established (every cheaper configuration was simulated, or screened, and missed).
   */
  readonly searchBound?: number;
  readonly notes: readonly string[];
}
