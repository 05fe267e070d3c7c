// Triton's settings: its keys of the agent's `agent.server` section (grpcUrl, header), the flags
// that stand for them, and how either becomes the adapter's options. Pure (zod and the config's
// zod helpers), so src/config can build its schema from it.
import { z } from 'zod';
import {
  FlagError, resolveBase, serverSchema, trimSlashes,
} from '../common/server-settings.js';
import { strict } from '../../src/config/zod-helpers.js';
import type { ServerConfigBase, ServerSettings } from '../common/server-settings.js';
import { grpcTarget, isGrpcAddress } from './grpc-address.js';
import type { TritonAdapterOptions } from './index.js';

const schema = serverSchema('triton', {
  grpcUrl: z.string().refine(isGrpcAddress, { error: 'must be host:port with a port in 1–65535 (grpc:// or http:// allowed) or none' }).optional()
    .describe('Triton: its gRPC address, where model loads go (an HTTP load stalls the inference requests of one of Triton\'s HTTP threads until it returns; docs/scale-down.md). Default: the url\'s host on :8001 when url is on :8000, else HTTP; none: HTTP.'),
  header: strict({ name: z.string().refine((t) => /^[A-Za-z0-9-]+$/.test(t), { error: 'must be an HTTP header name' }), value: z.string().min(1) }).optional().describe('Triton --http-restricted-api header sent on every request.'),
});

export interface TritonServerConfig extends ServerConfigBase<'triton'> {
  /** Where loads go (host:port, or none for HTTP). */
  readonly grpcUrl?: string;
  readonly header?: { readonly name: string; readonly value: string };
}

/** --grpc-url as the adapter takes it: host:port (or grpc:// / http:// before it), or none. */
function grpcAddress(text: string): string {
  if (text.trim() === 'none') return 'none';
  try {
    return grpcTarget(text);
  } catch (err) {
    throw new FlagError(`--grpc-url: ${(err as Error).message}`);
  }
}

export const tritonSettings: ServerSettings<'triton', typeof schema, TritonServerConfig, { readonly kind: 'triton' } & TritonAdapterOptions> = {
  kind: 'triton',
  schema,
  flags: ['grpcUrl', 'header'],
  resolve: (parsed) => ({
    ...resolveBase(parsed),
    ...(parsed.grpcUrl === undefined ? {} : { grpcUrl: parsed.grpcUrl }),
    ...(parsed.header === undefined ? {} : { header: parsed.header }),
  }),
  fromFlags: ({ url, metricsUrl }, flags) => {
    const header = flags.header === undefined ? undefined : /^([A-Za-z0-9-]+)=(.+)$/.exec(flags.header);
    if (flags.header !== undefined && !header) throw new FlagError(`--header ${flags.header}: must be name=value`);
    return {
      kind: 'triton', url: trimSlashes(url.href), ...(metricsUrl ? { metricsUrl: metricsUrl.href } : {}),
      ...(flags.grpcUrl !== undefined ? { grpcUrl: grpcAddress(flags.grpcUrl) } : {}),
      ...(header ? { header: { name: header[1] as string, value: header[2] as string } } : {}),
    };
  },
  toOptions: (s) => ({
    kind: 'triton', url: s.url, ...(s.timeoutMs === undefined ? {} : { timeoutMs: s.timeoutMs }),
    ...(s.metricsUrl ? { metricsUrl: s.metricsUrl } : {}), ...(s.grpcUrl ? { grpcUrl: s.grpcUrl } : {}),
    ...(s.header ? { restrictedApiHeader: s.header } : {}),
  }),
};
