// Builds an adapter from its kind and options: with settings.ts (each kind's config schema and flag
// mapping) the only place that knows every server kind. The composition roots (src/cli) call it;
// everything else sees the ServerAdapter port. Adding a kind: one line here, one in settings.ts.
import type { ServerAdapter, ServerKind } from '../src/ports/server-adapter.js';
import { SERVER_KINDS } from '../src/ports/server-adapter.js';
import { createTritonAdapter } from './triton/index.js';
import { createTorchServeAdapter } from './torchserve/index.js';
import { createTfServingAdapter } from './tfserving/index.js';
import { SERVER_SETTINGS } from './settings.js';
import type { AdapterOptions } from './settings.js';

export type { AdapterOptions, AgentServerConfig, ServerConfig } from './settings.js';
export { adapterOptions, adapterOptionsFromFlags } from './settings.js';
export { FlagError } from './common/server-settings.js';
export type { ServerFlags } from './common/server-settings.js';

type OptionsFor<K extends ServerKind> = Omit<Extract<AdapterOptions, { readonly kind: K }>, 'kind'>;

/** Per kind: its settings (schema, fromFlags, toOptions) and its factory. */
export const ADAPTERS: { readonly [K in ServerKind]: { readonly settings: (typeof SERVER_SETTINGS)[K]; readonly create: (options: OptionsFor<K>) => ServerAdapter } } = {
  triton: { settings: SERVER_SETTINGS.triton, create: createTritonAdapter },
  torchserve: { settings: SERVER_SETTINGS.torchserve, create: createTorchServeAdapter },
  tfserving: { settings: SERVER_SETTINGS.tfserving, create: createTfServingAdapter },
};

export function createAdapter(options: AdapterOptions): ServerAdapter {
  const { kind, ...rest } = options;
  return (ADAPTERS[kind].create as (o: typeof rest) => ServerAdapter)(rest);
}

export function isServerKind(text: string): text is ServerKind {
  return (SERVER_KINDS as readonly string[]).includes(text);
}
