// Every server kind's settings, by kind: the schema of the agent's `agent.server` section (a
// discriminated union on `kind`, where a key of another kind is an error naming that kind), and
// the way from that section, or from the command-line flags, to the adapter's options. Pure (zod
// and the config's zod helpers), so src/config builds its schema from it; registry.ts adds the
// factories. Adding a kind: one line in SERVER_SETTINGS (and one in registry.ts).
import { z } from 'zod';
import type { ServerKind } from '../src/ports/server-adapter.js';
import { strict } from '../src/config/zod-helpers.js';
import { FlagError, flagUrl, KIND_FLAGS, modelList } from './common/server-settings.js';
import type { KindFlag, ResolveContext, ServerFlags, ServerSettings } from './common/server-settings.js';
import { tritonSettings } from './triton/settings.js';
import { torchServeSettings } from './torchserve/settings.js';
import { tfServingSettings } from './tfserving/settings.js';

export const SERVER_SETTINGS = {
  triton: tritonSettings,
  torchserve: torchServeSettings,
  tfserving: tfServingSettings,
} as const satisfies { readonly [K in ServerKind]: { readonly kind: K } };

type AnySettings = (typeof SERVER_SETTINGS)[ServerKind];
type ConfigOf<S> = S extends ServerSettings<ServerKind, z.ZodObject, infer C, unknown> ? C : never;
type OptionsOf<S> = S extends ServerSettings<ServerKind, z.ZodObject, infer _C, infer O> ? O : never;

/** A server's settings, resolved: from agent.server or from flags. */
export type ServerConfig = ConfigOf<AnySettings>;
/** The options of one adapter, with its kind. */
export type AdapterOptions = OptionsOf<AnySettings>;

type KeysOfUnion<U> = U extends unknown ? keyof U : never;
/** Each kind's config with the other kinds' keys as `?: undefined`, so any key can be read off the union. */
type Exclusive<U, All extends PropertyKey = KeysOfUnion<U>> = U extends unknown ? U & { readonly [K in Exclude<All, keyof U>]?: undefined } : never;
/** agent.server, resolved: a timeout is always set from the config file. */
export type AgentServerConfig = Exclusive<ServerConfig> & { readonly timeoutMs: number };

/** A settings module as the generic code here handles it (every kind's types at once). */
type Untyped = ServerSettings<ServerKind, z.ZodObject, ServerConfig, AdapterOptions>;
const settingsOf = (kind: ServerKind): Untyped => SERVER_SETTINGS[kind] as unknown as Untyped;
const ALL: readonly AnySettings[] = Object.values(SERVER_SETTINGS);

/** One kind's section, with the keys only other kinds take refused by name (but not listed as its keys). */
function variant<S extends AnySettings>(own: S): S['schema'] {
  const ownKeys = Object.keys(own.schema.shape);
  const owners = new Map<string, ServerKind[]>();
  for (const other of ALL) {
    for (const key of Object.keys(other.schema.shape)) {
      if (!ownKeys.includes(key)) owners.set(key, [...(owners.get(key) ?? []), other.kind]);
    }
  }
  const foreign = Object.fromEntries([...owners].map(([key, kinds]) => [key, z.never({
    error: `must not be set: only for server kind ${kinds.join(' or ')}, not ${own.kind}`,
  }).optional()]));
  // Typed as the kind's own schema: the foreign keys only ever parse to undefined.
  return strict({ ...own.schema.shape, ...foreign }, ownKeys) as unknown as S['schema'];
}

export const serverSettingsSchema = z.discriminatedUnion('kind', [
  variant(tritonSettings), variant(torchServeSettings), variant(tfServingSettings),
], {
  error: (issue) => (issue.code === 'invalid_union' ? `must be one of: ${ALL.map((s) => JSON.stringify(s.kind)).join(', ')}` : undefined),
});

export type ParsedServerSettings = z.output<typeof serverSettingsSchema>;

/** agent.server after the schema → its resolved config (URLs without trailing slashes, absolute paths). */
export function resolveServer(parsed: ParsedServerSettings, at: ResolveContext): AgentServerConfig {
  return settingsOf(parsed.kind).resolve(parsed, at) as AgentServerConfig;
}

/** The adapter's options for a resolved config (`models`: the agent's, or the flags'). */
export function adapterOptions(config: ServerConfig, models?: readonly string[]): AdapterOptions {
  return settingsOf(config.kind).toOptions(config, models);
}

/**
 * The adapter's options the flags stand for. A bad flag (a malformed URL, a flag of another
 * kind) throws a FlagError; the checks run in the order `inspect` has always run them.
 */
export function adapterOptionsFromFlags(kind: ServerKind, flags: ServerFlags, env: NodeJS.ProcessEnv): AdapterOptions {
  const url = flagUrl('--url', flags.url);
  const metricsUrl = flags.metricsUrl === undefined ? undefined : flagUrl('--metrics-url', flags.metricsUrl);
  const settings = settingsOf(kind);
  for (const [key, flag] of Object.entries(KIND_FLAGS) as [KindFlag, string][]) {
    if (flags[key] !== undefined && !settings.flags.includes(key)) {
      throw new FlagError(`${flag}: only for --server ${ALL.filter((s) => (s.flags as readonly KindFlag[]).includes(key)).map((s) => s.kind).join(' or ')}`);
    }
  }
  const models = flags.models === undefined ? undefined : modelList(flags.models);
  return settings.toOptions(settings.fromFlags({ url, metricsUrl, models }, flags, env), models);
}
