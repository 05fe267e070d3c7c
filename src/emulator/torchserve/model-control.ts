// The emulated TorchServe's changes to its registry: scale workers, set the default version,
// register a version from the model store, unregister one.
import type { HttpReply, HttpRequest } from '../common/http.js';
import { TsError, modelNotFound, tsJson } from './errors.js';
import { getModel, newVersion, updateWorkers } from './registry.js';
import type { TorchServeContext } from './registry.js';
import type { Version } from './types.js';
import { intOf, intParam, parseArchiveName, registerParams, versionKey } from './wire.js';

export async function scale(ctx: TorchServeContext, name: string, version: string | undefined, query: URLSearchParams): Promise<HttpReply> {
  const min = intParam(query, 'min_worker', 1);
  const max = intParam(query, 'max_worker', min);
  const ver = version ?? query.get('model_version') ?? undefined;
  const synchronous = query.get('synchronous')?.toLowerCase() === 'true';
  if (max < min) throw new TsError(400, 'BadRequestException', 'max_worker cannot be less than min_worker.');
  if (!ctx.registry.has(name)) throw modelNotFound(name);
  const v = getModel(ctx, name, ver) as Version;
  const ready = updateWorkers(v, min, max);
  if (!synchronous) return tsJson(202, { status: 'Processing worker updates...' });
  await ready;
  return tsJson(200, { status: `Workers scaled to ${min} for model: ${name}${ver !== undefined ? `, version: ${ver}` : ''}` });
}

export function setDefault(ctx: TorchServeContext, name: string, version: string): string {
  const m = ctx.registry.get(name);
  if (!m) throw modelNotFound(name);
  const key = versionKey(version);
  if (!m.versions.has(key)) throw new TsError(403, 'InvalidModelVersionException', `Can't set default to: ${version}`);
  m.defaultKey = key;
  return `Default version successfully updated for model "${name}" to "${version}"`;
}

export function unregister(ctx: TorchServeContext, name: string, version: string | undefined): string {
  const m = ctx.registry.get(name);
  if (!m) throw modelNotFound(name);
  const key = version === undefined ? m.defaultKey : versionKey(version);
  if (key === m.defaultKey && m.versions.size > 1) {
    throw new TsError(403, 'InvalidModelVersionException', `Cannot remove default version for model ${name}`);
  }
  const v = m.versions.get(key);
  if (!v) throw new TsError(404, 'ModelVersionNotFoundException', `Model version: ${version} does not exist for model: ${name}`);
  // Its workers are stopped (a batch in flight goes back to its queue), then its queue fails.
  void v.engine.setReplicas(0);
  v.engine.stop();
  m.versions.delete(key);
  if (m.versions.size === 0) ctx.registry.delete(name);
  return `Model "${name}" unregistered`;
}

export async function register(ctx: TorchServeContext, req: HttpRequest): Promise<HttpReply> {
  const p = registerParams(req);
  const url = p.get('url');
  if (url === undefined) throw new TsError(400, 'BadRequestException', 'Parameter url is required.');
  const archive = parseArchiveName(url);
  const emulated = archive ? ctx.byName.get(archive.model) : undefined;
  if (!archive || !emulated) throw new TsError(404, 'ModelNotFoundException', `Model not found in model store: ${url}`);
  const name = p.get('model_name') || archive.model;
  const batchSize = intOf(p.get('batch_size'), 1);
  const maxBatchDelay = intOf(p.get('max_batch_delay'), 100);
  const initialWorkers = intOf(p.get('initial_workers'), 0);
  const synchronous = (p.get('synchronous') ?? 'true').toLowerCase() === 'true';
  if (batchSize < 1 || batchSize > emulated.curve.maxBatch) {
    throw new TsError(400, 'BadRequestException', `batch_size ${batchSize} is outside the profile of ${emulated.name} on ${emulated.hardware} (1..${emulated.curve.maxBatch}); the emulator does not extrapolate`);
  }
  const key = versionKey(archive.version);
  const existing = ctx.registry.get(name);
  if (existing?.versions.has(key)) throw new TsError(409, 'ConflictStatusException', `Model version ${archive.version} is already registered for model ${name}`);
  const responseTimeout = intOf(p.get('response_timeout'), -1);
  const startupTimeout = intOf(p.get('startup_timeout'), -1);
  const v = newVersion(ctx, {
    model: name, version: archive.version, url, emulated, batchSize, maxBatchDelay,
    responseTimeout: responseTimeout === -1 ? 120 : responseTimeout, startupTimeout: startupTimeout === -1 ? 120 : startupTimeout,
    minWorkers: 0, maxWorkers: 0, loadedAtStartup: false,
  }, 0);
  // A new version becomes the default only when it is the model's first.
  if (existing) existing.versions.set(key, v);
  else ctx.registry.set(name, { versions: new Map([[key, v]]), defaultKey: key });
  if (initialWorkers <= 0) {
    return tsJson(200, { status: `Model "${name}" Version: ${archive.version} registered with 0 initial workers. Use scale workers API to add workers for the model.` });
  }
  const ready = updateWorkers(v, initialWorkers, initialWorkers);
  if (!synchronous) return tsJson(202, { status: 'Processing worker updates...' });
  await ready;
  return tsJson(200, { status: `Model "${name}" Version: ${archive.version} registered with ${initialWorkers} initial workers` });
}
