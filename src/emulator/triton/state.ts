// The emulated Triton's state, passed to every handler as one context: the model table (one
// engine per loaded model), the control mode and API restrictions, the pending reload sleeps,
// and the small helpers every route uses (error replies, restrictions, the ready-model lookup).
import { ModelEngine } from '../engine/index.js';
import type { EngineCounters } from '../engine/index.js';
import { reply } from '../common/http.js';
import type { HttpReply, HttpRequest } from '../common/http.js';
import { stringifyJson } from '../common/json.js';
import type { EmulatedModel } from '../common/profiles.js';
import { TRITON_MODEL_VERSION, initialServing, instanceCount } from './config.js';
import type { TritonServing } from './config.js';
import { sumCounters } from './report.js';
import type { TritonApiGroup, TritonEmulatorOptions, TritonModel, TritonModelControlMode, TritonRestriction } from './types.js';
import { RandomStream } from '../../core/math/random.js';

export interface TritonContext {
  readonly options: TritonEmulatorOptions;
  readonly mode: TritonModelControlMode;
  readonly reloadDelayMs: number;
  readonly restrictions: readonly TritonRestriction[];
  readonly gpuUuid: string;
  readonly table: Map<string, TritonModel>;
  /** Pending sleeps (reload and load delays), resolved early when the server stops. */
  readonly sleepers: Map<NodeJS.Timeout, () => void>;
  stopped: boolean;
}

/** The context with every selected model loaded at its initial configuration. */
export function createTritonContext(options: TritonEmulatorOptions, selected: readonly EmulatedModel[]): TritonContext {
  const ctx: TritonContext = {
    options,
    mode: options.modelControlMode ?? 'explicit',
    reloadDelayMs: options.reloadDelayMs ?? 50,
    restrictions: options.restrictedApis ?? [],
    gpuUuid: makeGpuUuid(options.seed ?? 1),
    table: new Map(),
    sleepers: new Map(),
    stopped: false,
  };
  for (const m of selected) {
    const serving = initialServing(m, {
      instances: options.instances ?? 1,
      maxBatchSize: options.maxBatchSize ?? m.curve.maxBatch,
      maxQueueDelayMs: options.maxQueueDelayMs ?? 0,
      ...(options.preferredBatchSizes ? { preferredBatchSizes: options.preferredBatchSizes } : {}),
    });
    if (serving.maxBatchSize > m.curve.maxBatch) {
      throw new RangeError(`${m.name}: max batch size ${serving.maxBatchSize} is past the largest profiled batch size ${m.curve.maxBatch} on ${m.hardware}`);
    }
    ctx.table.set(m.name, { model: m, serving, override: undefined, state: 'READY', engine: newEngine(ctx, m, serving), retired: [], control: Promise.resolve() });
  }
  return ctx;
}

/** The engine of one copy of a model at `s`. */
export function newEngine(ctx: TritonContext, m: EmulatedModel, s: TritonServing): ModelEngine {
  const options = ctx.options;
  return new ModelEngine({
    name: m.name,
    curve: m.curve,
    replicas: instanceCount(s),
    maxBatch: Math.max(1, s.maxBatchSize),
    maxQueueDelayMs: (s.dynamicBatching?.maxQueueDelayUs ?? 0) / 1000,
    preferredBatchSizes: s.dynamicBatching?.preferredBatchSizes ?? [],
    merge: s.dynamicBatching !== undefined,
    delayOrigin: 'oldest-request',
    // The rate limiter's payload slots: batches form while instances are busy (docs/emulator.md).
    formAheadPerReplica: 2,
    // Its batcher wakes for an arrival only at next_preferred_batch_size (docs/replay-real-servers.md).
    wakeOnPreferred: true,
    scaleDown: 'graceful',
    replicaStartupMs: options.instanceStartupMs ?? 0,
    ...(options.now ? { now: options.now } : {}),
  });
}

/** A sleep that the server's stop ends early. */
export function sleep(ctx: TritonContext, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      ctx.sleepers.delete(t);
      resolve();
    }, ms);
    ctx.sleepers.set(t, resolve);
  });
}

/** Ends every pending sleep at once (the server stops). */
export function wakeSleepers(ctx: TritonContext): void {
  for (const [t, wake] of ctx.sleepers) {
    clearTimeout(t);
    wake();
  }
  ctx.sleepers.clear();
}

export function json(status: number, body: unknown): HttpReply {
  return reply(status, stringifyJson(body));
}

export function error(status: number, message: string): HttpReply {
  return json(status, { error: message });
}

/** The first restriction on `group` whose header the request lacks (HTTP headers, or gRPC metadata without its prefix). */
export function unmet(ctx: TritonContext, headers: HttpRequest['headers'], group: TritonApiGroup): TritonRestriction | undefined {
  return ctx.restrictions.find((r) => r.groups.includes(group) && headers[r.header.toLowerCase()] !== r.value);
}

/** RETURN_AND_RESPOND_IF_RESTRICTED: 403 when a restricted group lacks its header. */
export function restricted(ctx: TritonContext, req: HttpRequest, group: TritonApiGroup): HttpReply | undefined {
  const r = unmet(ctx, req.headers, group);
  return r ? error(403, `This API is restricted, expecting header '${r.header}'`) : undefined;
}

/** The model a request names, ready; or the error Triton gives. */
export function readyModel(ctx: TritonContext, name: string, version: string | undefined): TritonModel | HttpReply {
  const t = ctx.table.get(name);
  if (!t) return error(404, `Request for unknown model: '${name}' is not found`);
  if (version !== undefined && version !== TRITON_MODEL_VERSION) return error(404, `Request for unknown model: '${name}' version ${version} is not found`);
  if (t.state !== 'READY' || !t.engine) return error(503, `Request for unknown model: '${name}' has no available versions`);
  return t;
}

export function counters(t: TritonModel): EngineCounters {
  return t.engine?.counters() ?? sumCounters([]);
}

/** Stops every engine of every model, retired copies too. */
export function stopAllEngines(ctx: TritonContext): void {
  for (const t of ctx.table.values()) {
    t.engine?.stop();
    for (const e of t.retired) e.stop();
  }
}

/** A GPU UUID in nvidia-smi's form, from the seed. */
function makeGpuUuid(seed: number): string {
  const r = new RandomStream(seed, 'triton-gpu-uuid');
  const hex = Array.from({ length: 4 }, () => r.nextUint32().toString(16).padStart(8, '0')).join('');
  return `GPU-${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
