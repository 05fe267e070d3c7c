// Per hardware on Triton: the profiler switches the model's instance kind (KIND_CPU / KIND_GPU)
// through a config override and always puts the original config back: at the end, when a switch
// fails, when something throws, and when it is aborted mid-sweep (Ctrl-C). Against the emulated
// Triton, comparing the whole config it serves.
import { expect } from 'chai';
import { createTritonAdapter } from '../../../adapters/triton/index.js';
import { startTritonEmulator } from '../../../src/emulator/index.js';
import type { TritonEmulator } from '../../../src/emulator/index.js';
import { runActiveProfile } from '../../../src/runtime/profiler/index.js';
import type { ActiveProfileOptions, ProfileEvent } from '../../../src/runtime/profiler/index.js';
import { systemClock } from '../../../src/platform/system-clock.js';
import { profile, request } from '../../emulator/helpers.js';

const PROFILES = [profile('m', 'gpu', [[1, 8], [2, 10], [4, 14], [8, 22]])];
const BOTH: ActiveProfileOptions = {
  model: 'm', hardware: [{ name: 'cpu', device: 'cpu' }, { name: 'gpu-t4', device: 'gpu' }], batchSizes: [1, 4, 8],
  windowMs: 100, minWindowRequests: 2, warmupRequests: 1, liveTrafficCheckMs: 50,
};

async function config(e: TritonEmulator): Promise<unknown> {
  const r = await request('GET', `${e.url}/v2/models/m/config`);
  expect(r.status).to.equal(200);
  return r.json();
}

const kindOf = (c: unknown): unknown => (c as { instance_group: { kind: string }[] }).instance_group[0]?.kind;

describe('runtime/profiler: restoring the original Triton config', function () {
  this.timeout(60_000);
  let e: TritonEmulator | undefined;
  let original: unknown;
  const emulator = (): TritonEmulator => {
    if (e === undefined) throw new Error('not started');
    return e;
  };

  beforeEach(async () => {
    // Two GPU instances with an explicit GPU list: a restore by replica count alone would lose nothing
    // here, but the whole config is compared.
    e = await startTritonEmulator({ profiles: PROFILES, gpu: true, instances: 2 });
    original = await config(e);
    expect(kindOf(original)).to.equal('KIND_GPU');
  });
  afterEach(async () => {
    await e?.stop();
    e = undefined;
  });

  it('profiles KIND_CPU then KIND_GPU instances and restores the config at the end', async () => {
    const kinds: unknown[] = [];
    const adapter = createTritonAdapter({ url: emulator().url });
    const r = await runActiveProfile(adapter, BOTH, {
      clock: systemClock,
      onEvent: (ev) => {
        if (ev.kind === 'hardware') void config(emulator()).then((c) => kinds.push(kindOf(c)));
      },
    });
    expect(r.hardware.map((h) => [h.hardware, h.device, h.switched, h.replicas])).to.deep.equal([['cpu', 'cpu', true, 2], ['gpu-t4', 'gpu', true, 2]]);
    expect(kinds).to.deep.equal(['KIND_CPU', 'KIND_GPU']);
    expect(r.hardware.flatMap((h) => h.points.map((p) => p.status))).to.not.include('failed');
    expect(r.hardware.flatMap((h) => h.points)).to.have.length(6);
    expect(r.restore).to.deep.equal({ needed: true, ok: true, method: 'config' });
    expect(await config(emulator())).to.deep.equal(original);
  });

  it('restores it when aborted mid-sweep (Ctrl-C), and stops at once', async () => {
    const controller = new AbortController();
    const adapter = createTritonAdapter({ url: emulator().url });
    let switchedToCpu = false;
    const started = Date.now();
    const r = await runActiveProfile(adapter, BOTH, {
      clock: systemClock,
      signal: controller.signal,
      onEvent: (ev: ProfileEvent) => {
        if (ev.kind === 'hardware' && ev.device === 'cpu') switchedToCpu = true;
        // Mid-sweep: while batch 4 is being measured on the CPU instances.
        if (ev.kind === 'point' && ev.batchSize === 4 && ev.phase === 'measuring') controller.abort(new Error('SIGINT'));
      },
    });
    expect(switchedToCpu).to.equal(true);
    expect(r.interrupted).to.equal(true);
    expect(r.hardware).to.have.length(1);
    expect(r.hardware[0]?.points.map((p) => p.batchSize)).to.deep.equal([1, 4]);
    expect(r.hardware[0]?.points[1]?.status).to.equal('cut');
    expect(r.restore).to.deep.equal({ needed: true, ok: true, method: 'config' });
    expect(await config(emulator())).to.deep.equal(original);
    expect(emulator().engine('m')?.inFlightRequests).to.equal(0);
    expect(Date.now() - started).to.be.below(10_000);
  });

  it('restores it when something throws mid-sweep, and the error still comes out', async () => {
    const adapter = createTritonAdapter({ url: emulator().url });
    const err = await runActiveProfile(adapter, BOTH, {
      clock: systemClock,
      onEvent: (ev) => {
        if (ev.kind === 'point-done') throw new Error('the progress display broke');
      },
    }).then(() => undefined, (x: unknown) => x);
    expect((err as Error).message).to.equal('the progress display broke');
    expect(await config(emulator())).to.deep.equal(original);
  });
});

describe('runtime/profiler: a switch Triton refuses', function () {
  this.timeout(60_000);

  it('is recorded on its hardware; the sweep goes on; the config stays the original', async () => {
    // A CPU-only server: a KIND_GPU override fails to load (the adapter sends the old config back too).
    const e = await startTritonEmulator({ profiles: PROFILES, gpu: false });
    try {
      const original = await config(e);
      const r = await runActiveProfile(createTritonAdapter({ url: e.url }), { ...BOTH, hardware: [{ name: 'gpu-t4', device: 'gpu' }, { name: 'cpu', device: 'cpu' }], batchSizes: [1] }, { clock: systemClock });
      expect(r.hardware[0]?.error).to.match(/^switching m to GPU instances failed: .*KIND_GPU but no GPUs are available/);
      expect(r.hardware[1]?.points[0]?.status).to.be.oneOf(['stable', 'unstable']);
      expect(r.restore.ok).to.equal(true);
      expect(await config(e)).to.deep.equal(original);
    } finally {
      await e.stop();
    }
  });
});
