// What every server kind's settings (adapters/<kind>/settings.ts) share: the keys of agent.server
// that every kind takes (url, metricsUrl, timeout), the command-line flags that stand for them,
// and the shape of a kind's settings module. Pure: zod and the config's small zod helpers only.
import { z } from 'zod';
import type { ServerKind } from '../../src/ports/server-adapter.js';
import { duration, httpUrl, strict } from '../../src/config/zod-helpers.js';

/** The server flags of `inspect` and `profile` (and the fields of a replay fleet entry), as typed. */
export interface ServerFlags {
  readonly url: string;
  readonly metricsUrl?: string | undefined;
  readonly grpcUrl?: string | undefined;
  readonly managementUrl?: string | undefined;
  readonly token?: string | undefined;
  readonly keyFile?: string | undefined;
  readonly header?: string | undefined;
  readonly models?: string | undefined;
}

/** The flags only some kinds take, in the order they are checked, with their names. */
export const KIND_FLAGS = {
  managementUrl: '--management-url',
  token: '--token',
  keyFile: '--key-file',
  header: '--header',
  grpcUrl: '--grpc-url',
} as const;
export type KindFlag = keyof typeof KIND_FLAGS;

/** A flag that does not make sense: the CLI reports it as a usage error (exit 2). */
export class FlagError extends Error {
  override readonly name = 'FlagError';
}

/** The flags every kind takes, already checked. */
export interface CommonFlags {
  readonly url: URL;
  readonly metricsUrl?: URL | undefined;
  /** Deduplicated, in the order given. */
  readonly models?: readonly string[] | undefined;
}

export function flagUrl(flag: string, text: string): URL {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new FlagError(`${flag} ${text}: not a URL — must be like http://127.0.0.1:8000`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new FlagError(`${flag} ${text}: must be an http or https URL`);
  return u;
}

export function modelList(text: string): string[] {
  const names = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (names.length === 0) throw new FlagError(`--models ${JSON.stringify(text)}: must name at least one model, e.g. --models resnet,bert`);
  return [...new Set(names)];
}

/** A URL without its trailing slashes. */
export function trimSlashes(url: string): string {
  return url.replace(/\/+$/, '');
}

/** The server's settings as the adapter options are built from: from agent.server, or from flags. */
export interface ServerConfigBase<K extends ServerKind> {
  readonly kind: K;
  readonly url: string;
  /** Always set from the config file (default 5s); from flags, absent (the adapter's default). */
  readonly timeoutMs?: number;
  readonly metricsUrl?: string;
}

/** Resolves the paths of agent.server against the config file's folder. */
export interface ResolveContext {
  relative(path: string): string;
}

/** One kind's settings: the schema of its agent.server section, and how config and flags become adapter options. */
export interface ServerSettings<K extends ServerKind, S extends z.ZodObject, C extends ServerConfigBase<K>, O> {
  readonly kind: K;
  /** agent.server when kind is K: strict; the registry adds the other kinds' keys as errors. */
  readonly schema: S;
  /** The kind-only flags it takes. */
  readonly flags: readonly KindFlag[];
  /** The parsed section → the resolved config (URLs without trailing slashes, absolute paths). */
  resolve(parsed: z.output<S>, at: ResolveContext): C;
  /** The flags → the same config; bad flags throw a FlagError. */
  fromFlags(common: CommonFlags, flags: ServerFlags, env: NodeJS.ProcessEnv): C;
  /** The config → the adapter's options (`models`: the agent's or the flags' models). */
  toOptions(config: C, models: readonly string[] | undefined): O;
}

/** The keys every kind's section has, around the kind's own (`own`): kind, url, metricsUrl, own…, timeout. */
export function serverSchema<K extends ServerKind, T extends z.ZodRawShape>(kind: K, own: T) {
  return strict({
    kind: z.literal(kind).describe('The model server this agent attaches to.'),
    url: httpUrl.describe('Main API: Triton HTTP (:8000), TorchServe inference (:8080), TF Serving REST (:8501).'),
    metricsUrl: httpUrl.optional().describe('Prometheus metrics (default: Triton :8002, TorchServe :8082, TF Serving /monitoring/prometheus/metrics on the REST port).'),
    ...own,
    timeout: duration(z.number().positive()).default(5_000).describe('Timeout of one read (default 5s).'),
  });
}

/** The common keys of a parsed section, resolved. */
export function resolveBase<K extends ServerKind>(parsed: { kind: K; url: string; metricsUrl?: string | undefined; timeout: number }): ServerConfigBase<K> & { timeoutMs: number } {
  return {
    kind: parsed.kind,
    url: trimSlashes(parsed.url),
    timeoutMs: parsed.timeout,
    ...(parsed.metricsUrl === undefined ? {} : { metricsUrl: trimSlashes(parsed.metricsUrl) }),
  };
}
