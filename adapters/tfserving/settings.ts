// TF Serving's settings: its keys of the agent's `agent.server` section (the restart and scale
// commands, the batching parameters file), the flags that stand for them, and how either becomes
// the adapter's options. Pure (zod and the config's zod helpers), so src/config can build its
// schema from it.
import { z } from 'zod';
import { name } from '../../src/config/zod-helpers.js';
import { FlagError, resolveBase, serverSchema, trimSlashes } from '../common/server-settings.js';
import type { ServerConfigBase, ServerSettings } from '../common/server-settings.js';
import type { TfServingAdapterOptions } from './options.js';

const schema = serverSchema('tfserving', {
  restartCommand: z.array(z.string().min(1)).min(1).optional().describe('TF Serving: the command that restarts the server after a batching change.'),
  scaleCommand: z.array(z.string().min(1)).min(1).optional()
    .describe('TF Serving: the orchestrator command that sets replicas ({model} and {replicas} are replaced).'),
  batchingParametersFile: name.optional().describe('TF Serving: the --batching_parameters_file, relative to this config file.'),
});

export interface TfServingServerConfig extends ServerConfigBase<'tfserving'> {
  readonly restartCommand?: readonly string[];
  readonly scaleCommand?: readonly string[];
  /** Absolute path (from the config file). */
  readonly batchingParametersFile?: string;
}

export const tfServingSettings: ServerSettings<'tfserving', typeof schema, TfServingServerConfig, { readonly kind: 'tfserving' } & TfServingAdapterOptions> = {
  kind: 'tfserving',
  schema,
  flags: [],
  resolve: (parsed, at) => ({
    ...resolveBase(parsed),
    ...(parsed.restartCommand === undefined ? {} : { restartCommand: parsed.restartCommand }),
    ...(parsed.scaleCommand === undefined ? {} : { scaleCommand: parsed.scaleCommand }),
    ...(parsed.batchingParametersFile === undefined ? {} : { batchingParametersFile: at.relative(parsed.batchingParametersFile) }),
  }),
  fromFlags: ({ url, metricsUrl, models }, flags) => {
    if (models === undefined) throw new FlagError('--models: required for --server tfserving (its REST API cannot list models)');
    if (metricsUrl && metricsUrl.origin !== url.origin) {
      throw new FlagError(`--metrics-url ${flags.metricsUrl}: TF Serving serves metrics on its REST port — must be on ${url.origin}`);
    }
    return { kind: 'tfserving', url: trimSlashes(url.href), ...(metricsUrl ? { metricsUrl: metricsUrl.href } : {}) };
  },
  toOptions: (s, models) => ({
    kind: 'tfserving', url: s.url, ...(s.timeoutMs === undefined ? {} : { timeoutMs: s.timeoutMs }), ...(models ? { models } : {}),
    ...(s.metricsUrl ? { metricsPath: new URL(s.metricsUrl).pathname } : {}),
    ...(s.restartCommand ? { restartCommand: s.restartCommand } : {}),
    ...(s.scaleCommand ? { scaleCommand: s.scaleCommand } : {}),
    ...(s.batchingParametersFile ? { batchingParametersFile: s.batchingParametersFile } : {}),
  }),
};
