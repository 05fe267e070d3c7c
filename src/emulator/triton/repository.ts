// The emulated Triton's model repository extension: the index, a load (with a config override;
// from the HTTP route or the gRPC service) and an unload. Control operations on one model run one
// after another; a load that changes only the instance count updates the model in place.
import { reply } from '../common/http.js';
import type { HttpReply, HttpRequest } from '../common/http.js';
import { TRITON_MODEL_VERSION, instanceCount, parseConfigOverride, sameExceptInstances } from './config.js';
import type { TritonServing } from './config.js';
import { parseBody } from './infer-request.js';
import { error, json, newEngine, sleep } from './state.js';
import type { TritonContext } from './state.js';
import type { TritonModel } from './types.js';

const NOT_POLLING = 'explicit model load / unload is not allowed if polling is enabled';

export function index(ctx: TritonContext, req: HttpRequest): HttpReply {
  let readyOnly = false;
  if (req.body.length > 0) {
    const parsed = parseBody(req.body);
    if (!parsed.ok) return error(400, parsed.message);
    const ready = (parsed.value as Record<string, unknown> | null)?.['ready'];
    readyOnly = ready === true;
  }
  const entries = [...ctx.table.values()]
    .filter((t) => !readyOnly || t.state === 'READY')
    .map((t) => ({ name: t.model.name, version: TRITON_MODEL_VERSION, state: t.state, ...(t.state === 'UNAVAILABLE' ? { reason: 'unloaded' } : {}) }));
  return json(200, entries);
}

export async function load(ctx: TritonContext, name: string, req: HttpRequest): Promise<HttpReply> {
  if (req.body.length === 0 || ctx.mode !== 'explicit' || !ctx.table.has(name)) return loadWith(ctx, name, undefined);
  const parsed = parseBody(req.body);
  if (!parsed.ok) return error(400, parsed.message);
  return loadWith(ctx, name, (parsed.value as { parameters?: Record<string, unknown> } | null)?.parameters ?? {});
}

/** A load with the request's parameters (undefined: no body), whichever protocol carried it. */
export async function loadWith(ctx: TritonContext, name: string, params: Record<string, unknown> | undefined): Promise<HttpReply> {
  if (ctx.mode !== 'explicit') return error(503, NOT_POLLING);
  const t = ctx.table.get(name);
  if (!t) return error(400, `failed to load '${name}', failed to poll from model repository`);
  let next: TritonServing | undefined;
  if (params !== undefined) {
    const fileParam = Object.keys(params).find((k) => k.startsWith('file:'));
    if (fileParam) return error(400, `failed to load '${name}': file overrides ('${fileParam}') are not emulated`);
    const config = params['config'];
    if (config !== undefined) {
      if (typeof config !== 'string') return error(400, `failed to load '${name}': the 'config' parameter must be a string holding the JSON of a ModelConfig`);
      const result = parseConfigOverride(config, t.model);
      if (!result.ok) return error(400, result.message);
      next = result.serving;
    }
  }
  const run = t.control.then(() => applyLoad(ctx, t, next));
  t.control = run.catch(() => undefined);
  await run;
  return ctx.stopped ? error(503, 'the server is shutting down') : reply(200);
}

async function applyLoad(ctx: TritonContext, t: TritonModel, override: TritonServing | undefined): Promise<void> {
  if (override) t.override = override;
  const next = override ?? t.override ?? t.serving;
  if (t.state === 'READY' && t.engine) {
    if (sameExceptInstances(t.serving, next)) {
      // Only instance_group changed: instances are added or retired in place; stats continue.
      t.serving = next;
      await t.engine.setReplicas(instanceCount(next));
      return;
    }
    // Anything else: a second copy loads in the background while the first one serves; then
    // they swap, the old copy finishes its requests, and the statistics start again.
    await sleep(ctx, ctx.reloadDelayMs);
    if (ctx.stopped) return;
    const old = t.engine;
    t.retired.push(old);
    t.engine = newEngine(ctx, t.model, next);
    t.serving = next;
    void old.drain().then(() => old.stop());
    return;
  }
  if (t.state === 'UNLOADING') await waitFor(ctx, () => t.state === 'UNAVAILABLE');
  t.state = 'LOADING';
  await sleep(ctx, ctx.reloadDelayMs);
  if (ctx.stopped) return;
  t.serving = next;
  t.engine = newEngine(ctx, t.model, next);
  t.retired = [];
  t.state = 'READY';
}

async function waitFor(ctx: TritonContext, cond: () => boolean): Promise<void> {
  while (!cond() && !ctx.stopped) await sleep(ctx, 5);
}

export function unload(ctx: TritonContext, name: string): HttpReply {
  if (ctx.mode !== 'explicit') return error(503, NOT_POLLING);
  const t = ctx.table.get(name);
  if (!t) return error(400, `failed to unload '${name}', model is not loaded`);
  t.control = t.control.then(async () => {
    const engine = t.engine;
    if (t.state !== 'READY' || !engine) return;
    // Returns at once; in-flight requests finish, then the model is gone with its series.
    t.state = 'UNLOADING';
    await engine.drain();
    engine.stop();
    for (const e of t.retired) e.stop();
    t.engine = undefined;
    t.retired = [];
    t.state = 'UNAVAILABLE';
  }).catch(() => undefined);
  return reply(200);
}
