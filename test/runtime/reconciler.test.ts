import { expect } from 'chai';
import { Reconciler } from '../../src/runtime/reconciler.js';
import { DEFAULT_RECONCILE_POLICY } from '../../src/core/reconcile/index.js';
import type { ReconcileAction } from '../../src/core/reconcile/index.js';
import { createTritonAdapter } from '../../adapters/triton/index.js';
import { startTritonEmulator } from '../../src/emulator/index.js';
import { normaliseProfiles } from '../../src/core/model/profiles.js';
import { AdapterError } from '../../src/ports/server-adapter.js';
import type { AdapterCapabilities, ModelStatus, ServerAdapter, ReplicaControl } from '../../src/ports/server-adapter.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { systemClock } from '../../src/platform/system-clock.js';

const enforce = { ...DEFAULT_RECONCILE_POLICY, mode: 'enforce' as const, maxStepUp: 8, maxStepDown: 1, cooldownMs: 0 };

describe('runtime/reconciler', function () {
  this.timeout(30_000);

  it('brings an emulated Triton to the desired replicas and batch, step by step', async () => {
    const { profiles } = normaliseProfiles([{ model: 'm', hardware: 'cpu', points: [{ batchSize: 1, latencyMs: 2 }, { batchSize: 8, latencyMs: 6 }] }], () => 'p');
    const server = await startTritonEmulator({ profiles, port: 0, metricsPort: 0 });
    try {
      const adapter = createTritonAdapter({ url: server.url, metricsUrl: server.metricsUrl });
      const r = new Reconciler({ adapter, clock: systemClock, policy: enforce });
      r.setDesired({ epoch: 1, models: [{ model: 'm', replicas: 3, maxBatchSize: 8, batchDelayMs: 2 }] });
      await r.pass();
      for (let i = 0; i < 20 && (await adapter.model('m')).maxBatchSize !== 8; i++) await new Promise((ok) => setTimeout(ok, 100));
      const after = await adapter.model('m');
      expect(after.replicas).to.equal(3);
      expect(after.maxBatchSize).to.equal(8);
      // Down by one per pass.
      r.setDesired({ epoch: 2, models: [{ model: 'm', replicas: 1 }] });
      await r.pass();
      expect((await adapter.model('m')).replicas).to.equal(2);
      await r.pass();
      expect((await adapter.model('m')).replicas).to.equal(1);
      const again = await r.pass();
      expect(again?.applied).to.deep.equal([]);
    } finally {
      await server.stop();
    }
  });

  it('in mode recommend changes nothing and reports what it would do', async () => {
    const { profiles } = normaliseProfiles([{ model: 'm', hardware: 'cpu', points: [{ batchSize: 1, latencyMs: 2 }] }], () => 'p');
    const server = await startTritonEmulator({ profiles, port: 0, metricsPort: 0 });
    try {
      const adapter = createTritonAdapter({ url: server.url, metricsUrl: server.metricsUrl });
      const r = new Reconciler({ adapter, clock: systemClock, policy: { ...enforce, mode: 'recommend' } });
      r.setDesired({ epoch: 1, models: [{ model: 'm', replicas: 4 }] });
      const pass = await r.pass();
      expect(pass?.applied).to.deep.equal([]);
      expect(pass?.decision.recommendations.map((x) => `${x.kind} ${x.why}`)).to.deep.equal(['replicas mode is recommend']);
      expect((await adapter.model('m')).replicas).to.equal(1);
    } finally {
      await server.stop();
    }
  });

  it('retries a failing management call with backoff, a capped number of times, and shows the error', async () => {
    let calls = 0;
    const failing: ServerAdapter & ReplicaControl = {
      kind: 'triton', endpoint: 'http://127.0.0.1:1',
      health: async () => ({ live: true, ready: true }),
      models: async (): Promise<ModelStatus[]> => [{ model: 'm', ready: true, replicas: 1, device: 'cpu', maxBatchSize: 1 }],
      model: async () => ({ model: 'm', ready: true, replicas: 1, device: 'cpu', maxBatchSize: 1 }),
      counters: async () => [],
      metrics: async () => [],
      capabilities: async (): Promise<AdapterCapabilities> => ({ replicas: 'live', batching: 'reload', perBatchStats: false, profiling: false, warnings: [] }),
      setReplicas: async () => {
        calls++;
        throw new AdapterError({ server: 'triton', endpoint: 'POST /v2/repository/models/m/load', kind: 'http', status: 500, message: 'failed to load' });
      },
    };
    const clock = new FakeClock(0);
    const r = new Reconciler({ adapter: failing, clock, policy: enforce, maxAttempts: 3, retryBaseMs: 1000 });
    r.setDesired({ epoch: 1, models: [{ model: 'm', replicas: 2 }] });
    const attemptsAt: number[] = [];
    for (let t = 0; t <= 20_000; t += 500) {
      const before = calls;
      await r.pass();
      if (calls > before) attemptsAt.push(clock.nowMs());
      await clock.advance(500);
    }
    expect(attemptsAt).to.deep.equal([0, 1000, 3000]);
    const f = r.status().failures[0];
    expect(f?.gaveUp).to.equal(true);
    expect(f?.message).to.match(/triton POST \/v2\/repository\/models\/m\/load → 500: failed to load/);
  });

  it('asks made while a slow change runs coalesce into one pass, which applies the newest desired state', async () => {
    const calls: number[] = [];
    let release: () => void = () => undefined;
    const adapter = oneModelServer({
      setReplicas: async (n) => {
        calls.push(n);
        // The first call is a slow load: it returns when released.
        if (calls.length === 1) await new Promise<void>((ok) => { release = ok; });
      },
    });
    const r = new Reconciler({ adapter, clock: new FakeClock(0), policy: enforce });
    r.setDesired({ epoch: 1, models: [{ model: 'm', replicas: 3 }] });
    const first = r.pass();
    while (calls.length === 0) await new Promise((ok) => setImmediate(ok));
    // Three newer decisions while the load runs: one pass after it, for the last.
    const asks = [4, 5, 6].map((n) => {
      r.setDesired({ epoch: 1, models: [{ model: 'm', replicas: n }] });
      return r.pass();
    });
    expect(asks[0]).to.equal(asks[2]);
    release();
    await first;
    const pass = await asks[2];
    expect(calls).to.deep.equal([3, 6]);
    expect(pass?.applied.map((a) => a.kind === 'replicas' && a.to)).to.deep.equal([6]);
  });

  it('reads what the server can change once per TTL (it may probe the server), and again after a failed change', async () => {
    let reads = 0;
    let fail = false;
    const adapter = oneModelServer({
      onCapabilities: () => reads++,
      setReplicas: async () => {
        if (fail) throw new AdapterError({ server: 'triton', endpoint: 'POST /v2/repository/models/m/load', kind: 'http', status: 500, message: 'no' });
      },
    });
    const clock = new FakeClock(0);
    const r = new Reconciler({ adapter, clock, policy: enforce, capabilitiesTtlMs: 10_000 });
    r.setDesired({ epoch: 1, models: [{ model: 'm', replicas: 1 }] });
    for (let t = 0; t < 10_000; t += 1000) {
      await r.pass();
      await clock.advance(1000);
    }
    expect(reads).to.equal(1);
    await r.pass(); // 10 s: stale
    expect(reads).to.equal(2);
    fail = true;
    r.setDesired({ epoch: 2, models: [{ model: 'm', replicas: 3 }] });
    await r.pass(); // fails: forget what was read
    await clock.advance(1000);
    await r.pass();
    expect(reads).to.equal(3);
  });
});

describe('runtime/reconciler: actuation does not block the next decision', () => {
  it('a slow change on one model leaves the others to later passes; its completion runs a pass that reports it and applies its next change', async () => {
    const calls: string[] = [];
    let release: () => void = () => undefined;
    const adapter = twoModelServer(async (m, n) => {
      calls.push(`${m}=${n}`);
      // The first change of 'a' is a slow removal: it returns when released.
      if (m === 'a' && calls.filter((c) => c.startsWith('a')).length === 1) await new Promise<void>((ok) => { release = ok; });
    });
    const clock = new FakeClock(0);
    const passes: string[] = [];
    const r = new Reconciler({
      adapter, clock, policy: { ...enforce, maxStepDown: 8 }, actionWaitMs: 1000,
      onPass: (p) => passes.push(`applied [${p.applied.map(label)}] in progress [${p.inProgress.map(label)}]`),
    });
    r.setDesired({ epoch: 1, models: [{ model: 'a', replicas: 1 }, { model: 'b', replicas: 4 }] });
    const first = r.pass();
    await clock.advance(1000); // the pass's wait runs out with 'a' still in flight
    await first;
    expect(passes).to.deep.equal(['applied [b→4] in progress [a→1]']);
    // A burst: both models up. 'a' is left alone while its removal runs; 'b' goes up at once.
    r.setDesired({ epoch: 1, models: [{ model: 'a', replicas: 6 }, { model: 'b', replicas: 8 }] });
    await r.pass();
    expect(calls).to.deep.equal(['a=1', 'b=4', 'b=8']);
    expect(passes[1]).to.equal('applied [b→8] in progress [a→1]');
    // The removal ends: a pass runs by itself, reports it, and takes 'a' to what is wanted now.
    release();
    for (let i = 0; i < 50 && passes.length < 3; i++) await new Promise((ok) => setImmediate(ok));
    expect(passes[2]).to.equal('applied [a→1,a→6] in progress []');
    expect(calls).to.deep.equal(['a=1', 'b=4', 'b=8', 'a=6']);
  });

  it('a change that fails after its pass returned is retried with backoff like any other', async () => {
    let fail: (e: Error) => void = () => undefined;
    let calls = 0;
    const adapter = twoModelServer(async (m) => {
      if (m !== 'a') return;
      calls++;
      if (calls === 1) await new Promise<void>((_ok, no) => { fail = no; });
    });
    const clock = new FakeClock(0);
    const failed: string[] = [];
    const r = new Reconciler({ adapter, clock, policy: enforce, actionWaitMs: 500, retryBaseMs: 1000, onPass: (p) => failed.push(...p.failed.map((f) => `${f.attempts} ${f.message}`)) });
    r.setDesired({ epoch: 1, models: [{ model: 'a', replicas: 3 }, { model: 'b', replicas: 1 }] });
    const first = r.pass();
    await clock.advance(500);
    await first;
    fail(new Error('load failed'));
    for (let i = 0; i < 50 && failed.length === 0; i++) await new Promise((ok) => setImmediate(ok));
    expect(failed).to.deep.equal(['1 load failed']);
    expect(r.status().failures.map((f) => f.attempts)).to.deep.equal([1]);
    await r.pass(); // within the backoff: not tried again
    expect(calls).to.equal(1);
    await clock.advance(1000);
    await r.pass();
    expect(calls).to.equal(2);
    expect(r.status().failures).to.deep.equal([]);
  });
});

describe('runtime/reconciler: idle interval', () => {
  it('passes at the idle interval once passes have found nothing to do for idleAfterMs, at the fast one while anything is held, failing or changing', async () => {
    let fail = false;
    const adapter = oneModelServer({
      setReplicas: async () => {
        if (fail) throw new AdapterError({ server: 'triton', endpoint: 'POST /v2/repository/models/m/load', kind: 'http', status: 500, message: 'no' });
      },
    });
    const clock = new FakeClock(0);
    const r = new Reconciler({ adapter, clock, policy: enforce, intervalMs: 1000, idleIntervalMs: 5000, idleAfterMs: 3000 });
    expect(r.nextIntervalMs()).to.equal(1000); // no pass yet
    r.setDesired({ epoch: 1, models: [{ model: 'm', replicas: 2 }] });
    await r.pass(); // acts
    expect(r.nextIntervalMs()).to.equal(1000);
    for (let t = 0; t < 3; t++) {
      await clock.advance(1000);
      await r.pass(); // as desired: quiet since the first of these
    }
    expect(r.nextIntervalMs()).to.equal(1000); // quiet for 2 s only
    await clock.advance(1000);
    await r.pass();
    expect(r.nextIntervalMs()).to.equal(5000);
    // A change that fails keeps it fast while it is retried.
    fail = true;
    r.setDesired({ epoch: 2, models: [{ model: 'm', replicas: 3 }] });
    await r.pass();
    expect(r.nextIntervalMs()).to.equal(1000);
    // A scale-down held by a cooldown is not quiet either: the pass that applies it must come soon.
    const held = new Reconciler({ adapter: oneModelServer({}), clock, policy: { ...enforce, cooldownMs: 60_000 }, intervalMs: 1000, idleIntervalMs: 5000, idleAfterMs: 0 });
    held.setDesired({ epoch: 1, models: [{ model: 'm', replicas: 3 }] });
    await held.pass();
    held.setDesired({ epoch: 1, models: [{ model: 'm', replicas: 1 }] });
    const pass = await held.pass();
    expect(pass?.decision.recommendations.length).to.be.above(0);
    expect(held.nextIntervalMs()).to.equal(1000);
    // Without the option: always the interval.
    expect(new Reconciler({ adapter, clock, policy: enforce, intervalMs: 1000 }).nextIntervalMs()).to.equal(1000);
  });

  it('the periodic task follows it', async () => {
    let passes = 0;
    const adapter = oneModelServer({});
    const counting = { ...adapter, models: async () => { passes++; return adapter.models(); } };
    const clock = new FakeClock(0);
    const r = new Reconciler({ adapter: counting, clock, policy: enforce, intervalMs: 1000, idleIntervalMs: 5000, idleAfterMs: 2000 });
    r.setDesired({ epoch: 1, models: [{ model: 'm', replicas: 1 }] });
    r.start();
    await clock.advance(20_000);
    await r.stop();
    // Passes at 1, 2, 3 s (quiet from 1 s, idle once 2 s have passed), then every 5 s: 8, 13, 18 s.
    expect(passes).to.equal(6);
  });
});

/**
 * A server of one model 'm' whose replicas change live: `setReplicas` runs first (it may wait, or
 * throw to fail the change), then the count is taken.
 */
function oneModelServer(hooks: { setReplicas?: (n: number) => Promise<void>; onCapabilities?: () => void }): ServerAdapter & ReplicaControl {
  let replicas = 1;
  const status = (): ModelStatus => ({ model: 'm', ready: true, replicas, device: 'cpu', maxBatchSize: 1 });
  return {
    kind: 'triton', endpoint: 'http://127.0.0.1:1',
    health: async () => ({ live: true, ready: true }),
    models: async () => [status()],
    model: async () => status(),
    counters: async () => [],
    metrics: async () => [],
    capabilities: async (): Promise<AdapterCapabilities> => {
      hooks.onCapabilities?.();
      return { replicas: 'live', batching: 'reload', perBatchStats: false, profiling: false, warnings: [] };
    },
    setReplicas: async (_m, n) => {
      await hooks.setReplicas?.(n);
      replicas = n;
      return status();
    },
  };
}

/** A server of models 'a' and 'b' (1 replica each) whose replicas change live after `change` returns. */
function twoModelServer(change: (model: string, n: number) => Promise<void>): ServerAdapter & ReplicaControl {
  const replicas = new Map([['a', 4], ['b', 1]]);
  const status = (model: string): ModelStatus => ({ model, ready: true, replicas: replicas.get(model) ?? 0, device: 'cpu', maxBatchSize: 1 });
  return {
    kind: 'triton', endpoint: 'http://127.0.0.1:1',
    health: async () => ({ live: true, ready: true }),
    models: async () => [...replicas.keys()].map(status),
    model: async (m) => status(m),
    counters: async () => [],
    metrics: async () => [],
    capabilities: async (): Promise<AdapterCapabilities> => ({ replicas: 'live', batching: 'reload', perBatchStats: false, profiling: false, warnings: [] }),
    setReplicas: async (m, n) => {
      await change(m, n);
      replicas.set(m, n);
      return status(m);
    },
  };
}

function label(a: ReconcileAction): string {
  return a.kind === 'replicas' ? `${a.model}→${a.to}` : `${a.model} batch`;
}
