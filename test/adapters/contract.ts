// The ServerAdapter contract: behaviour every adapter must show against a running server, whatever
// the server. One suite, run against each emulator (contract.test.ts) and each real server
// (test/integration/contract-real.test.ts). Per-server facts (which capabilities the server's
// mode allows, what to change, where to look for the change) come from the setup's `expects`.
// Malformed answers are the contract's other half, in contract-malformed.test.ts.
import { expect } from 'chai';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { InspectReport } from '../../src/cli/commands/inspect.js';
import { counterDelta } from '../../src/core/observe/counters.js';
import { AdapterError, hasBatchControl, hasReplicaControl, isProfilable } from '../../src/ports/server-adapter.js';
import { runCli } from '../helpers/cli.js';
import type {
  AdapterCapabilities, BatchSettings, ChangeMode, ModelCounters, ModelStatus, ServerAdapter,
} from '../../src/ports/server-adapter.js';

/** A part of the contract this server cannot take part in, and why (shown in the test's title). */
export interface Skip {
  readonly skip: string;
}

export interface ContractExpects {
  /** What capabilities() must say for this server's mode. */
  readonly capabilities?: Partial<Pick<AdapterCapabilities, 'replicas' | 'batching' | 'perBatchStats' | 'profiling'>>;
  /** Each must match one of capabilities().warnings. */
  readonly warnings?: readonly RegExp[];
  /** The larger batch of the inference check. Default min(4, maxBatchSize). */
  readonly largeBatch?: number;
  /**
   * 'apply': scale up by one and back, observed by model(); 'refuse': an 'unsupported' AdapterError
   * that changes nothing. Default: apply when capabilities().replicas is live or orchestrator.
   */
  readonly replicaChange?: 'apply' | 'refuse' | Skip;
  /** Default: apply (settings derived from the current ones) when batching is live or reload. */
  readonly batchChange?: { readonly apply: BatchSettings } | 'refuse' | Skip;
  /** Whether the counters survive a replica change without a reset. Default true. */
  readonly replicaChangeKeepsCounters?: boolean;
  /**
   * Fewer replicas come by a draining version swap (TorchServe with alternate archives): the
   * scale back ends on another version, with everything else as it was. Default false.
   */
  readonly scaleDownSwapsVersion?: boolean;
  /** Server-side evidence of a change, beyond what model() says (processes, engines). */
  readonly observeReplicas?: (replicas: number) => Promise<void> | void;
  readonly observeBatching?: (settings: BatchSettings) => Promise<void> | void;
  /** How long counters may lag an answered request (Triton's python backend). Default 5 s. */
  readonly countersSettleMs?: number;
  /** Timeout of one inference. Default 10 s. */
  readonly inferTimeoutMs?: number;
}

export interface ContractSetup {
  readonly adapter: ServerAdapter;
  /** The model the contract reads, infers against and changes. */
  readonly model: string;
  /** Stops what setup started. */
  readonly teardown: () => Promise<void>;
  /** The same kind of adapter, configured alike, with every API pointed at `url`. */
  readonly atUrl: (url: string) => ServerAdapter;
  readonly expects?: ContractExpects;
  /**
   * Flags that point `inferline inspect` at this server (after `inspect`), when the CLI can reach
   * it configured like `adapter`: the suite then checks that inspect reports what the adapter sees.
   */
  readonly inspectArgs?: readonly string[] | Skip;
}

export interface ContractOptions {
  /** Per-test timeout (default 60 s; real servers need more for reloads and version swaps). */
  readonly timeoutMs?: number;
}

const CHANGE_MODES: readonly ChangeMode[] = ['live', 'reload', 'restart', 'orchestrator', 'unsupported'];
const INFERENCES = 5;
const UNREACHABLE_WITHIN_MS = 3000;

export function describeAdapterContract(name: string, setup: () => Promise<ContractSetup>, options: ContractOptions = {}): void {
  describe(`adapter contract: ${name}`, function () {
    this.timeout(options.timeoutMs ?? 60_000);
    let s: ContractSetup | undefined;
    let initial: ModelStatus | undefined;
    let caps: AdapterCapabilities | undefined;

    const the = (): ContractSetup => {
      if (s === undefined) throw new Error('setup did not run');
      return s;
    };
    const expects = (): ContractExpects => the().expects ?? {};
    const start = (): ModelStatus => {
      if (initial === undefined) throw new Error('setup did not run');
      return initial;
    };
    const capabilities = async (): Promise<AdapterCapabilities> => (caps ??= await the().adapter.capabilities());
    const inferTimeoutMs = (): number => expects().inferTimeoutMs ?? 10_000;
    const countersOf = async (): Promise<ModelCounters> => {
      const { adapter, model } = the();
      const all = await adapter.counters(model);
      const mine = all.filter((c) => c.model === model);
      expect(mine, `counters('${model}') has one entry for the model`).to.have.length(1);
      return mine[0] as ModelCounters;
    };
    /** Polls counters until `ok` holds (servers may count a request just after answering it). */
    const countersUntil = async (base: ModelCounters, ok: (d: ModelCounters) => boolean): Promise<{ next: ModelCounters; reset: boolean; delta: ModelCounters }> => {
      const deadline = Date.now() + (expects().countersSettleMs ?? 5000);
      for (;;) {
        const next = await countersOf();
        const { reset, delta } = counterDelta(base, next);
        if ((ok(delta) && !reset) || Date.now() > deadline) return { next, reset, delta };
        await sleep(50);
      }
    };
    const inferOnce = async (batchSize: number): Promise<void> => {
      const { adapter, model } = the();
      if (!isProfilable(adapter)) throw new Error('not profilable');
      const r = await adapter.infer(model, { batchSize, data: 'random', seed: batchSize, timeoutMs: inferTimeoutMs() });
      expect(r.batchSize).to.equal(batchSize);
      expect(r.latencyMs).to.be.a('number').and.to.be.above(0);
    };
    const skipWith = (ctx: Mocha.Context, reason: string): void => {
      if (ctx.test) ctx.test.title = `${ctx.test.title} — SKIPPED: ${reason}`;
      ctx.skip();
    };

    before(async function () {
      s = await setup();
      initial = await s.adapter.model(s.model);
    });

    after(async function () {
      await s?.teardown();
    });

    it('health(): live and ready', async () => {
      const h = await the().adapter.health();
      expect(h, h.detail).to.include({ live: true, ready: true });
    });

    it('models() lists the model, ready, with replicas ≥ 1 and a sane max batch size', async () => {
      const { adapter, model } = the();
      const all = await adapter.models();
      const mine = all.filter((m) => m.model === model);
      expect(mine, `models() lists '${model}' once`).to.have.length(1);
      const m = mine[0] as ModelStatus;
      expect(m.ready).to.equal(true);
      expect(Number.isSafeInteger(m.replicas) && m.replicas >= 1, `replicas ${m.replicas}`).to.equal(true);
      expect(Number.isSafeInteger(m.maxBatchSize) && m.maxBatchSize >= 1 && m.maxBatchSize <= 65_536, `maxBatchSize ${m.maxBatchSize}`).to.equal(true);
      expect(['cpu', 'gpu', 'unknown']).to.include(m.device);
      if (m.batchDelayMs !== undefined) expect(Number.isFinite(m.batchDelayMs) && m.batchDelayMs >= 0, `batchDelayMs ${m.batchDelayMs}`).to.equal(true);
      if (m.version !== undefined) expect(m.version).to.be.a('string').and.not.equal('');
    });

    it('model(name) agrees with models()', async () => {
      const { adapter, model } = the();
      const listed = (await adapter.models()).find((m) => m.model === model);
      expect(await adapter.model(model)).to.deep.equal(listed);
      expect(listed).to.deep.equal(start());
    });

    it("model('no-such-model') rejects with a not-found AdapterError naming the server", async () => {
      const { adapter } = the();
      const err = await rejection(adapter.model('no-such-model'));
      expect(err.server).to.equal(adapter.kind);
      expect(err.kind).to.equal('not-found');
      expect(err.message).to.match(new RegExp(`^${adapter.kind} `));
    });

    it('capabilities() agree with the type guards and the server mode; what is unsupported comes with a warning', async () => {
      const { adapter } = the();
      const c = await capabilities();
      expect(CHANGE_MODES).to.include(c.replicas);
      expect(CHANGE_MODES).to.include(c.batching);
      expect(c.warnings).to.be.an('array');
      for (const w of c.warnings) expect(w).to.be.a('string').and.not.equal('');
      // An adapter that claims a change it makes itself must have the interface for it.
      if (c.replicas === 'live' || c.replicas === 'orchestrator') expect(hasReplicaControl(adapter), 'replicas → ReplicaControl').to.equal(true);
      if (c.batching === 'live' || c.batching === 'reload') expect(hasBatchControl(adapter), 'batching → BatchControl').to.equal(true);
      if (c.profiling) expect(isProfilable(adapter), 'profiling → Profilable').to.equal(true);
      // What the server cannot do must be explained (a change the adapter refuses too: see below).
      if (c.replicas === 'unsupported' || c.batching === 'unsupported') expect(c.warnings, 'an unsupported capability comes with a warning').to.not.have.lengthOf(0);
      const want = expects();
      if (want.capabilities) expect(c).to.include(want.capabilities);
      for (const re of want.warnings ?? []) expect(c.warnings.some((w) => re.test(w)), `a warning matching ${re} in ${JSON.stringify(c.warnings)}`).to.equal(true);
    });

    it('Profilable: inputs(), then infer() at batch 1 and at a larger batch, latency > 0', async function () {
      const { adapter, model } = the();
      if (!isProfilable(adapter)) return skipWith(this, 'the adapter is not Profilable');
      const inputs = await adapter.inputs(model);
      expect(inputs).to.not.have.lengthOf(0);
      for (const t of inputs) {
        expect(t.name).to.be.a('string').and.not.equal('');
        expect(t.datatype).to.be.a('string').and.not.equal('');
        expect(t.shape.every((d) => Number.isSafeInteger(d) && d >= -1), `shape [${t.shape.join(', ')}]`).to.equal(true);
      }
      await inferOnce(1);
      const large = expects().largeBatch ?? Math.min(4, start().maxBatchSize);
      if (large < 2) return skipWith(this, `maxBatchSize is ${start().maxBatchSize}: no larger batch to send`);
      await inferOnce(large);
    });

    it(`counters() grow by at least the inferences made (${INFERENCES}), with no reset; metrics() parse`, async () => {
      const { adapter } = the();
      const before = await countersOf();
      checkCounterTypes(before);
      if (isProfilable(adapter)) for (let i = 0; i < INFERENCES; i++) await inferOnce(1);
      else expect.fail('the contract needs a Profilable adapter to make inferences');
      const { next, reset, delta } = await countersUntil(before, (d) => d.requests >= BigInt(INFERENCES) && (d.inferences ?? BigInt(INFERENCES)) >= BigInt(INFERENCES));
      checkCounterTypes(next);
      expect(reset, `no counter went down: ${show(before)} → ${show(next)}`).to.equal(false);
      expect(delta.requests >= BigInt(INFERENCES), `requests grew by ${delta.requests}`).to.equal(true);
      if (delta.inferences !== undefined) expect(delta.inferences >= BigInt(INFERENCES), `inferences grew by ${delta.inferences}`).to.equal(true);
      if (delta.executions !== undefined) expect(delta.executions >= 1n, `executions grew by ${delta.executions}`).to.equal(true);
      // Every model's counters (no filter) include this one.
      expect((await adapter.counters()).some((c) => c.model === the().model)).to.equal(true);

      const samples = await adapter.metrics();
      expect(samples).to.be.an('array');
      for (const m of samples.slice(0, 200)) {
        expect(m.name).to.match(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/);
        expect(m.value).to.be.a('number');
        expect(m.labels).to.be.an('object');
      }
      if (samples.length === 0) expect((await capabilities()).warnings, 'no metrics only with a warning').to.not.have.lengthOf(0);
    });

    it('inferline inspect --json reports what the adapter sees', async function () {
      const { adapter, model, inspectArgs } = the();
      if (inspectArgs === undefined) return skipWith(this, 'no inspect flags given for this server');
      if ('skip' in inspectArgs) return skipWith(this, inspectArgs.skip);
      const r = await runCli(['inspect', ...inspectArgs, '--window', '300ms', '--json']);
      expect(r.code, r.stderr).to.equal(0);
      const report = JSON.parse(r.stdout) as InspectReport;
      const [status, c] = await Promise.all([adapter.model(model), capabilities()]);
      expect(report).to.include({ server: adapter.kind, endpoint: adapter.endpoint });
      expect(report.health).to.include({ live: true, ready: true });
      expect(report.capabilities).to.deep.equal({ replicas: c.replicas, batching: c.batching, perBatchStats: c.perBatchStats, profiling: c.profiling });
      for (const w of c.warnings) expect(report.warnings).to.include(w);
      const row = report.models.find((m) => m.model === model);
      expect(row, `inspect lists ${model}`).to.not.equal(undefined);
      expect(row).to.deep.include({
        version: status.version ?? null, ready: status.ready, replicas: status.replicas, device: status.device,
        maxBatchSize: status.maxBatchSize, batchDelayMs: status.batchDelayMs ?? null,
      });
      expect(row?.counters?.requests).to.match(/^\d+$/);
      expect(row?.rates?.windowMs).to.be.at.least(290);
    });

    it('ReplicaControl: scales up by one and back (observed by model()), or refuses as unsupported and changes nothing', async function () {
      const { adapter, model } = the();
      const c = await capabilities();
      const plan = expects().replicaChange ?? (c.replicas === 'live' || c.replicas === 'orchestrator' ? 'apply' : 'refuse');
      if (typeof plan === 'object') return skipWith(this, plan.skip);
      if (!hasReplicaControl(adapter)) {
        expect(plan, 'an adapter without ReplicaControl cannot apply').to.equal('refuse');
        expect(c.replicas).to.be.oneOf(['restart', 'unsupported', 'orchestrator']);
        return;
      }
      const was = await adapter.model(model);
      if (plan === 'refuse') {
        expect((await capabilities()).warnings, 'a refused change comes with a warning').to.not.have.lengthOf(0);
        const err = await rejection(adapter.setReplicas(model, was.replicas + 1));
        expect(err).to.include({ server: adapter.kind, kind: 'unsupported' });
        expect(await adapter.model(model)).to.deep.equal(was);
        return;
      }
      const countersBefore = await countersOf();
      const up = was.replicas + 1;
      const scaled = await adapter.setReplicas(model, up);
      expect(scaled).to.include({ model, replicas: up, ready: true });
      expect(await adapter.model(model)).to.deep.equal(scaled);
      await expects().observeReplicas?.(up);
      const back = await adapter.setReplicas(model, was.replicas);
      expect(back).to.include({ model, replicas: was.replicas, ready: true });
      expect(await adapter.model(model)).to.deep.equal(back);
      await expects().observeReplicas?.(was.replicas);
      if (expects().scaleDownSwapsVersion ?? false) {
        expect(back.version, 'the scale back is a version swap').to.not.equal(was.version);
        expect({ ...back, version: was.version }).to.deep.equal(was);
      } else {
        expect(back).to.deep.equal(was);
      }
      if (expects().replicaChangeKeepsCounters ?? true) {
        const after = await countersOf();
        expect(counterDelta(countersBefore, after).reset, `counters kept across the replica change: ${show(countersBefore)} → ${show(after)}`).to.equal(false);
      }
    });

    it('BatchControl: changes max batch and delay (observed by model()) and back, or refuses as unsupported and changes nothing', async function () {
      const { adapter, model } = the();
      const c = await capabilities();
      const was = await adapter.model(model);
      const plan = expects().batchChange ?? (c.batching === 'live' || c.batching === 'reload' ? { apply: otherBatching(was) } : 'refuse');
      if (typeof plan === 'object' && 'skip' in plan) return skipWith(this, plan.skip);
      if (!hasBatchControl(adapter)) {
        expect(plan, 'an adapter without BatchControl cannot apply').to.equal('refuse');
        return;
      }
      if (plan === 'refuse') {
        expect((await capabilities()).warnings, 'a refused change comes with a warning').to.not.have.lengthOf(0);
        const err = await rejection(adapter.setBatching(model, otherBatching(was)));
        expect(err).to.include({ server: adapter.kind, kind: 'unsupported' });
        expect(await adapter.model(model)).to.deep.equal(was);
        return;
      }
      const wanted = plan.apply;
      const changed = await adapter.setBatching(model, wanted);
      expect(changed).to.include({ model, ready: true, maxBatchSize: wanted.maxBatchSize, batchDelayMs: wanted.batchDelayMs, replicas: was.replicas });
      expect(await adapter.model(model)).to.deep.equal(changed);
      await expects().observeBatching?.(wanted);
      // The model serves, and counts, after the change.
      const base = await countersOf();
      await inferOnce(1);
      const { delta, reset } = await countersUntil(base, (d) => d.requests >= 1n);
      expect(reset, 'no reset between two reads after the change').to.equal(false);
      expect(delta.requests >= 1n, `requests grew by ${delta.requests} after the change`).to.equal(true);
      // And back to where it was.
      const restore = { maxBatchSize: was.maxBatchSize, batchDelayMs: was.batchDelayMs ?? 0 };
      const restored = await adapter.setBatching(model, restore);
      expect(restored).to.include({ maxBatchSize: was.maxBatchSize, replicas: was.replicas, ready: true });
      expect(restored.batchDelayMs ?? 0).to.equal(restore.batchDelayMs);
      await expects().observeBatching?.(restore);
    });

    it(`an adapter pointed at a closed port fails with kind 'unreachable' within ${UNREACHABLE_WITHIN_MS} ms`, async () => {
      const { adapter, model, atUrl } = the();
      const dead = atUrl(await closedPortUrl());
      const calls: [string, () => Promise<unknown>][] = [
        ['models()', () => dead.models()],
        [`model('${model}')`, () => dead.model(model)],
        ['counters()', () => dead.counters(model)],
      ];
      for (const [what, call] of calls) {
        const t0 = Date.now();
        const err = await rejection(call());
        expect(err, what).to.include({ server: adapter.kind, kind: 'unreachable' });
        expect(Date.now() - t0, `${what} gave up after`).to.be.below(UNREACHABLE_WITHIN_MS);
      }
      // health() may report a dead server instead of throwing; either way it is not live.
      const t0 = Date.now();
      const health = await dead.health().catch((err: unknown) => err);
      if (health instanceof AdapterError) expect(health.kind).to.equal('unreachable');
      else expect(health).to.include({ live: false, ready: false });
      expect(Date.now() - t0).to.be.below(UNREACHABLE_WITHIN_MS);
    });
  });
}

/** Other batch settings than `s`, valid on every server: a different max batch and whole-ms delay. */
export function otherBatching(s: ModelStatus): BatchSettings {
  return { maxBatchSize: s.maxBatchSize > 2 ? Math.floor(s.maxBatchSize / 2) : 2, batchDelayMs: Math.round(s.batchDelayMs ?? 0) + 2 };
}

/** The rejection of `p`, which must be an AdapterError. */
export async function rejection(p: Promise<unknown>): Promise<AdapterError> {
  let value: unknown;
  try {
    value = await p;
  } catch (err) {
    expect(err, String(err)).to.be.instanceOf(AdapterError);
    return err as AdapterError;
  }
  throw new Error(`expected an AdapterError, got ${JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))}`);
}

/** A loopback URL where nothing listens: a port that was free a moment ago. */
export async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

function checkCounterTypes(c: ModelCounters): void {
  for (const k of ['requests', 'failures', 'inferences', 'executions', 'queueNs', 'computeNs'] as const) {
    const v = c[k];
    if (v === undefined) continue;
    expect(typeof v, `${k} is a bigint`).to.equal('bigint');
    expect(v >= 0n, `${k} ${v} ≥ 0`).to.equal(true);
  }
  for (const b of c.batchSizes ?? []) {
    expect(Number.isSafeInteger(b.batchSize) && b.batchSize >= 1).to.equal(true);
    expect(b.executions >= 0n && b.computeNs >= 0n).to.equal(true);
  }
}

function show(c: ModelCounters): string {
  return JSON.stringify(c, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
