// Builds an adapter from its kind and options: the only place that knows every server kind. The
// composition roots (src/cli) call it; everything else sees the ServerAdapter port.
import type { ServerAdapter, ServerKind } from '../src/ports/server-adapter.js';
import { SERVER_KINDS } from '../src/ports/server-adapter.js';
import { createTritonAdapter } from './triton/index.js';
import type { TritonAdapterOptions } from './triton/index.js';
import { createTorchServeAdapter } from './torchserve/index.js';
import type { TorchServeAdapterOptions } from './torchserve/index.js';
import { createTfServingAdapter } from './tfserving/index.js';
import type { TfServingAdapterOptions } from './tfserving/options.js';

export type AdapterOptions =
  | ({ readonly kind: 'triton' } & TritonAdapterOptions)
  | ({ readonly kind: 'torchserve' } & TorchServeAdapterOptions)
  | ({ readonly kind: 'tfserving' } & TfServingAdapterOptions);

export function createAdapter(options: AdapterOptions): ServerAdapter {
  switch (options.kind) {
    case 'triton': {
      const { kind: _kind, ...rest } = options;
      return createTritonAdapter(rest);
    }
    case 'torchserve': {
      const { kind: _kind, ...rest } = options;
      return createTorchServeAdapter(rest);
    }
    case 'tfserving': {
      const { kind: _kind, ...rest } = options;
      return createTfServingAdapter(rest);
    }
  }
}

export function isServerKind(text: string): text is ServerKind {
  return (SERVER_KINDS as readonly string[]).includes(text);
}
