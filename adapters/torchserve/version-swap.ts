// Changing batch_size / max_batch_delay of a registered TorchServe model: no API edits them, so we
// swap versions (B.6, blue/green): register a new version with the new settings and as many
// workers as the current default (both run side by side until the old one goes: twice the workers
// and memory for a while), make it the default, let the old one drain, then unregister it. Needs
// enable_model_api=true (405 otherwise). All or nothing: if any step after registration fails, the
// default is restored and the new version unregistered.
//
// The same swap is how workers are removed without failing a request (index.ts setReplicas): the
// scale API interrupts a removed worker (WorkerThread.shutdown), whose batch is put back in the
// queue and run again, or, when the worker's own cleanup wins a race, fails with 500 "Worker
// died." (client.ts scale), so instead a version with fewer workers is registered and made the
// default, and the old version is unregistered only once drained: new requests go to the new
// default; the old version's queue (jobQueueStatus.pendingRequests) is polled until empty, then
// its last batches get max_batch_delay plus `graceMs` to finish (TorchServe publishes no per-worker
// in-flight count), and only then are its workers stopped.
//
// The version comes from the .mar's MANIFEST and register cannot override it (B.6), so registering
// the archive the model already serves answers 409 (seen on 0.12.0). A swap therefore needs an
// archive with another version string: the `archives` option lists, per model, the archives it may
// alternate between (e.g. m-a.mar built with --version 1 and m-b.mar with --version 2). We register
// the first one not already registered, and learn its version from describe `/all` before and after
// (the register status text, "Version: X registered", is only a fallback).
import { AdapterError } from '../../src/ports/server-adapter.js';
import type { BatchSettings } from '../../src/ports/server-adapter.js';
import type { Clock } from '../../src/ports/clock.js';
import type { TorchServeClient } from './client.js';
import { decode, parseDescribe, parseStatusMessage, registeredVersionOf } from './parse.js';
import type { ModelDescription } from './parse.js';

export interface SwapInput {
  readonly model: string;
  readonly settings: BatchSettings;
  /** Workers of the new version; default: as many as the current default has. */
  readonly workers?: number;
  /** Archives this model may be re-registered from; default: the one it was registered from. */
  readonly archives?: readonly string[];
  /** How the old version is let go once the new one is the default. */
  readonly drain: DrainOptions;
}

export interface DrainOptions {
  readonly clock: Clock;
  /** After the old version's queue is empty, how long its last batches may still run, beyond max_batch_delay (ms). */
  readonly graceMs: number;
  /** Most time to wait for the old version's queue to empty before unregistering it anyway (ms). */
  readonly timeoutMs: number;
  /** Between reads of the old version's queue (ms, default 50). */
  readonly pollMs?: number;
}

/** The first listed archive no version is registered from; else the default's own (a rebuilt file). */
export function chooseArchive(candidates: readonly string[], registered: readonly ModelDescription[], current: ModelDescription): string {
  const inUse = new Set(registered.map((d) => d.modelUrl));
  return candidates.find((c) => !inUse.has(c)) ?? current.modelUrl;
}

/** Whether a swap can register a version other than the default's own (an alternate archive is listed). */
export async function canSwap(client: TorchServeClient, model: string, archives: readonly string[]): Promise<boolean> {
  const current = first(await describe(client, model));
  const registered = await describe(client, model, 'all');
  return chooseArchive(archives, registered, current) !== current.modelUrl;
}

export async function swapVersion(client: TorchServeClient, input: SwapInput): Promise<void> {
  const { model, settings } = input;
  const current = first(await describe(client, model));
  const workers = input.workers ?? current.workers.length;
  if (current.batchSize === settings.maxBatchSize && current.maxBatchDelay === settings.batchDelayMs && workers === current.workers.length) return;
  const before = await describe(client, model, 'all');
  const archive = chooseArchive(input.archives ?? [], before, current);

  let statusText: string;
  try {
    const res = await client.register({
      url: archive, modelName: model, batchSize: settings.maxBatchSize, maxBatchDelayMs: settings.batchDelayMs,
      initialWorkers: workers, responseTimeoutS: current.responseTimeout, startupTimeoutS: current.startupTimeout,
    });
    statusText = safeStatus(res.body);
  } catch (err) {
    // A register that failed while starting workers (500) may still have left the version behind.
    const cleanup = await removeNewVersions(client, model, before);
    throw explain(err, archive, current, cleanup);
  }

  const after = await describe(client, model, 'all').catch(() => undefined);
  const known = new Set(before.map((d) => d.modelVersion));
  const added = after?.filter((d) => !known.has(d.modelVersion)) ?? [];
  const nextVersion = added[0]?.modelVersion ?? registeredVersionOf(statusText);
  if (added.length > 1 || nextVersion === undefined) {
    throw new AdapterError({
      server: 'torchserve', endpoint: 'POST /models', kind: 'malformed',
      message: `registered ${archive} but cannot tell which version it added (${added.length} new in describe /all, status ${JSON.stringify(statusText)}); nothing else was changed`,
    });
  }
  const next = added[0];
  if (next && (next.batchSize !== settings.maxBatchSize || next.maxBatchDelay !== settings.batchDelayMs)) {
    const rollback = await rollBack(client, model, nextVersion);
    throw new AdapterError({
      server: 'torchserve', endpoint: 'POST /models', kind: 'unsupported',
      message: `version ${nextVersion} came up with batchSize ${next.batchSize} / maxBatchDelay ${next.maxBatchDelay}, not the ${settings.maxBatchSize} / ${settings.batchDelayMs} asked for; ${rollback}`,
    });
  }

  try {
    await client.setDefault(model, nextVersion);
  } catch (err) {
    // The switch may have happened even if its answer was lost: restore the default before removing.
    throw withNote(err, await rollBack(client, model, nextVersion, current.modelVersion));
  }

  const drained = await drainVersion(client, model, current, input.drain);
  try {
    await client.unregister(model, current.modelVersion);
  } catch (err) {
    const remaining = await describe(client, model, 'all').catch(() => undefined);
    if (remaining && !remaining.some((d) => d.modelVersion === current.modelVersion)) return; // it went after all
    throw withNote(err, `${drained}; ${await rollBack(client, model, nextVersion, current.modelVersion)}`);
  }
}

/**
 * Waits until the old version (no longer the default, so taking no new requests) has served its
 * queue, then for its last batches: max_batch_delay + graceMs. Says how it ended.
 */
async function drainVersion(client: TorchServeClient, model: string, old: ModelDescription, o: DrainOptions): Promise<string> {
  const end = o.clock.nowMs() + o.timeoutMs;
  let state = 'no answer to describe';
  for (;;) {
    try {
      const pending = first(await describe(client, model, old.modelVersion)).pendingRequests;
      // A server that does not report its queue (no jobQueueStatus): the grace alone.
      if (pending === undefined || pending === 0) {
        state = '';
        break;
      }
      state = `${pending} requests still queued`;
    } catch {
      // a read that failed says nothing: read again
    }
    if (o.clock.nowMs() >= end) break;
    await o.clock.sleep(o.pollMs ?? 50);
  }
  await o.clock.sleep(old.maxBatchDelay + o.graceMs);
  return state === '' ? `version ${old.modelVersion} drained` : `version ${old.modelVersion} not drained after ${o.timeoutMs} ms (${state})`;
}

async function describe(client: TorchServeClient, model: string, version?: string): Promise<ModelDescription[]> {
  return decode(await client.describe(model, version), parseDescribe);
}

function first(ds: readonly ModelDescription[]): ModelDescription {
  return ds[0] as ModelDescription; // parseDescribe never returns an empty array
}

function safeStatus(body: string): string {
  try {
    return parseStatusMessage(body);
  } catch {
    return '';
  }
}

/** Unregisters `newVersion`, first restoring `oldDefault` when the default may have moved. Says what happened. */
async function rollBack(client: TorchServeClient, model: string, newVersion: string, oldDefault?: string): Promise<string> {
  const failures: string[] = [];
  if (oldDefault !== undefined) {
    // The default version cannot be unregistered (403), so this must come first.
    await client.setDefault(model, oldDefault).catch((e: unknown) => failures.push(`restoring default ${oldDefault}: ${(e as Error).message}`));
  }
  await client.unregister(model, newVersion).catch((e: unknown) => failures.push(`unregistering ${newVersion}: ${(e as Error).message}`));
  return failures.length === 0
    ? `rolled back: version ${newVersion} unregistered, the previous default serves as before`
    : `ROLLBACK INCOMPLETE, check model ${model} by hand: ${failures.join('; ')}`;
}

async function removeNewVersions(client: TorchServeClient, model: string, before: readonly ModelDescription[]): Promise<string> {
  const known = new Set(before.map((d) => d.modelVersion));
  const now = await describe(client, model, 'all').catch(() => undefined);
  if (!now) return 'could not check for a half-registered version';
  const left = now.filter((d) => !known.has(d.modelVersion));
  const notes = await Promise.all(left.map((d) => rollBack(client, model, d.modelVersion)));
  return notes.length ? notes.join('; ') : 'nothing was changed';
}

function explain(err: unknown, archive: string, current: ModelDescription, cleanup: string): unknown {
  if (!(err instanceof AdapterError)) return err;
  if (err.status === 405) {
    return new AdapterError({
      server: 'torchserve', endpoint: err.endpoint, status: 405, kind: 'unsupported', cause: err,
      message: 'changing batch size or delay registers a new model version, and TorchServe refuses register/unregister unless '
        + 'enable_model_api=true (config.properties, --enable-model-api, or TS_ENABLE_MODEL_API with enable_envvars_config=true); '
        + `a restart is needed to turn it on; ${cleanup}`,
    });
  }
  if (err.status === 409) {
    return new AdapterError({
      server: 'torchserve', endpoint: err.endpoint, status: 409, kind: 'unsupported', cause: err,
      message: `${rawMessage(err)}: ${archive} carries a version that is already registered (the version comes from the .mar MANIFEST and register cannot override it). `
        + `Build a copy with another --version and list both archives for ${current.modelName} in the adapter's archives option; ${cleanup}`,
    });
  }
  return withNote(err, cleanup);
}

function withNote(err: unknown, note: string): unknown {
  if (!(err instanceof AdapterError)) return err;
  return new AdapterError({
    server: err.server, endpoint: err.endpoint, kind: err.kind, cause: err,
    ...(err.status !== undefined ? { status: err.status } : {}),
    message: `${rawMessage(err)}; ${note}`,
  });
}

/** The message an AdapterError was built with, without its "server endpoint → status: " prefix. */
function rawMessage(err: AdapterError): string {
  const prefix = `${err.server} ${err.endpoint}${err.status !== undefined ? ` → ${err.status}` : ''}: `;
  return err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message;
}
