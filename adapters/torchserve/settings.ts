// TorchServe's settings: its keys of the agent's `agent.server` section (management API, auth,
// archives and draining), the flags that stand for them, and how either becomes the adapter's
// options. Pure (zod and the config's zod helpers), so src/config can build its schema from it.
import { z } from 'zod';
import { duration, httpUrl, name } from '../../src/config/zod-helpers.js';
import {
  flagUrl, FlagError, resolveBase, serverSchema, trimSlashes,
} from '../common/server-settings.js';
import type { ServerConfigBase, ServerSettings } from '../common/server-settings.js';
import type { TorchServeAdapterOptions } from './index.js';

/** The key of both APIs when --token is not given. */
export const TORCHSERVE_TOKEN_ENV = 'INFERLINE_TORCHSERVE_TOKEN';

/** A TorchServe key: the same rule for the config's token and --token. */
const ONE_WORD = { test: (t: string): boolean => /^\S+$/.test(t), error: 'must be one word (TorchServe keys have no blanks)' };

const schema = serverSchema('torchserve', {
  managementUrl: httpUrl.optional().describe('TorchServe management API (default: the same host on :8081).'),
  keyFile: name.optional().describe('TorchServe key_file.json, relative to this config file (token auth).'),
  token: z.string().refine(ONE_WORD.test, { error: ONE_WORD.error }).optional()
    .describe('TorchServe key for the inference and management APIs (or INFERLINE_AGENT__SERVER__TOKEN).'),
  archives: z.record(name, z.array(name).min(1)).optional()
    .describe('TorchServe: per model, the .mar files in the model store it may be registered from, each built with its own --version (a batching change and a draining scale-down swap between them; docs/scale-down.md).'),
  scaleDown: z.enum(['drain', 'interrupt']).optional()
    .describe('TorchServe: drain (default) removes workers by a version swap that fails no request, where archives lists an alternate; interrupt uses the scale API, which re-runs a removed worker\'s batch elsewhere and now and then fails it ("Worker died.").'),
  waitForWorkers: z.boolean().optional()
    .describe('TorchServe: whether adding workers waits until they have loaded (synchronous=true). Default false: the scale call returns once TorchServe has started them, so the next decision never waits on a worker\'s start-up.'),
  drainGrace: duration(z.number().nonnegative()).optional()
    .describe('TorchServe: once a drained version\'s queue is empty, how long its last batches may still run beyond max_batch_delay (default 2s); above the slowest batch.'),
});

export interface TorchServeServerConfig extends ServerConfigBase<'torchserve'> {
  readonly managementUrl?: string;
  /** Absolute path (from the config file). */
  readonly keyFile?: string;
  readonly token?: string;
  /** Per model, the archives a version swap may register. */
  readonly archives?: Readonly<Record<string, readonly string[]>>;
  /** How workers are removed (adapter default: drain). */
  readonly scaleDown?: 'drain' | 'interrupt';
  readonly drainGraceMs?: number;
  readonly waitForWorkers?: boolean;
}

export const torchServeSettings: ServerSettings<'torchserve', typeof schema, TorchServeServerConfig, { readonly kind: 'torchserve' } & TorchServeAdapterOptions> = {
  kind: 'torchserve',
  schema,
  flags: ['managementUrl', 'token', 'keyFile'],
  resolve: (parsed, at) => ({
    ...resolveBase(parsed),
    ...(parsed.managementUrl === undefined ? {} : { managementUrl: trimSlashes(parsed.managementUrl) }),
    ...(parsed.keyFile === undefined ? {} : { keyFile: at.relative(parsed.keyFile) }),
    ...(parsed.token === undefined ? {} : { token: parsed.token }),
    ...(parsed.archives === undefined ? {} : { archives: parsed.archives }),
    ...(parsed.scaleDown === undefined ? {} : { scaleDown: parsed.scaleDown }),
    ...(parsed.drainGrace === undefined ? {} : { drainGraceMs: parsed.drainGrace }),
    ...(parsed.waitForWorkers === undefined ? {} : { waitForWorkers: parsed.waitForWorkers }),
  }),
  fromFlags: ({ url, metricsUrl }, flags, env) => {
    const token = flags.token ?? (env[TORCHSERVE_TOKEN_ENV] || undefined);
    if (token !== undefined && !ONE_WORD.test(token)) throw new FlagError(`--token: ${ONE_WORD.error}`);
    return {
      kind: 'torchserve',
      url: trimSlashes(url.href),
      ...(flags.managementUrl === undefined ? {} : { managementUrl: trimSlashes(flagUrl('--management-url', flags.managementUrl).href) }),
      ...(metricsUrl ? { metricsUrl: trimSlashes(metricsUrl.href) } : {}),
      ...(token !== undefined ? { token } : {}),
      ...(flags.keyFile !== undefined ? { keyFile: flags.keyFile } : {}),
    };
  },
  toOptions: (s) => {
    const u = new URL(s.url);
    const sibling = (port: string): string => `${u.protocol}//${u.host.replace(/:\d+$/, '')}:${port}`;
    return {
      kind: 'torchserve', inferenceUrl: s.url, ...(s.timeoutMs === undefined ? {} : { timeoutMs: s.timeoutMs }),
      managementUrl: s.managementUrl ?? sibling('8081'),
      metricsUrl: (s.metricsUrl ?? sibling('8082')).replace(/\/metrics$/, ''),
      ...(s.token ? { managementKey: s.token, inferenceKey: s.token } : {}),
      ...(s.keyFile ? { keyFile: s.keyFile } : {}),
      ...(s.archives ? { archives: s.archives } : {}),
      ...(s.scaleDown ? { scaleDown: s.scaleDown } : {}),
      ...(s.drainGraceMs !== undefined ? { drainGraceMs: s.drainGraceMs } : {}),
      ...(s.waitForWorkers !== undefined ? { waitForWorkers: s.waitForWorkers } : {}),
    };
  },
};
