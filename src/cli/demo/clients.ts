// How the demo's own clients (the load generator, the capability check) reach a server: the
// adapter options of an agent config's server section, through the registry as `inferline agent`
// builds them, with a longer timeout (a query may wait in a queue during the burst).
import path from 'node:path';
import { adapterOptions, resolveServer, serverSettingsSchema } from '../../../adapters/settings.js';
import type { AdapterOptions } from '../../../adapters/settings.js';

/** Adapter options of a server section (the demo writes it; its paths are absolute), as `inferline agent` builds them. */
export function demoAdapterOptions(server: Readonly<Record<string, unknown>>, models: readonly string[]): AdapterOptions {
  const resolved = resolveServer(serverSettingsSchema.parse(server), { relative: (p) => path.resolve(p) });
  return adapterOptions({ ...resolved, timeoutMs: 10_000 }, models);
}
