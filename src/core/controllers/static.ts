// Static provisioning: the replicas chosen up front, never changed.
import type { Controller } from '../sim/estimator.js';

export function staticController(name: string): Controller {
  return {
    name,
    tickMs: 3_600_000,
    observeArrival(): void { /* nothing changes */ },
    tick: () => undefined,
  };
}
