// How the demo's own clients (the load generator, the capability check) reach a server: the
// adapter options of an agent config's server section, as `inferline agent` builds them, with a
// longer timeout (a query may wait in a queue during the burst).
import type { createAdapter } from '../../../adapters/registry.js';

/** Adapter options of a server section, as `inferline agent` builds them. */
export function demoAdapterOptions(server: Readonly<Record<string, unknown>>, models: readonly string[]): Parameters<typeof createAdapter>[0] {
  const s = server as { kind: string; url: string; metricsUrl?: string; managementUrl?: string; keyFile?: string };
  switch (s.kind) {
    case 'torchserve':
      return {
        kind: 'torchserve', inferenceUrl: s.url, managementUrl: s.managementUrl ?? '', metricsUrl: (s.metricsUrl ?? '').replace(/\/metrics$/, ''),
        timeoutMs: 10_000, ...(s.keyFile ? { keyFile: s.keyFile } : {}),
      };
    case 'tfserving':
      return { kind: 'tfserving', url: s.url, timeoutMs: 10_000, models };
    default:
      return { kind: 'triton', url: s.url, timeoutMs: 10_000, ...(s.metricsUrl ? { metricsUrl: s.metricsUrl } : {}) };
  }
}

