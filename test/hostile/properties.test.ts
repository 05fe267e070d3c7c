// Property tests of the parsers at the edge: random and mutated configs, traces, arrival specs,
// plan files and server bodies. Whatever comes in, a parser either returns a value that keeps the
// limits, or throws its own typed error with a bounded message; never a TypeError, a RangeError,
// or an unbounded amount of work.
import { expect } from 'chai';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseConfig } from '../../src/config/index.js';
import { parsePlan } from '../../src/config/plan-file.js';
import { parseText } from '../../src/config/parse-text.js';
import { renderValue } from '../../src/config/issues.js';
import { expectedArrivals, parseArrivalSpec } from '../../src/core/arrival/spec.js';
import type { InvalidInputError } from '../../src/core/model/errors.js';
import { MAX_TRACE_GAP_MS, MAX_WORKLOAD_ARRIVALS, MAX_WORKLOAD_SPAN_MS } from '../../src/core/model/limits.js';
import { checkProfileSense } from '../../src/core/model/profile-checks.js';
import { parseTrace } from '../../src/core/arrival/trace.js';
import * as triton from '../../adapters/triton/parse.js';
import * as torchserve from '../../adapters/torchserve/parse.js';
import * as tfserving from '../../adapters/tfserving/parse.js';
import { parseTfMetrics } from '../../adapters/tfserving/parse-metrics.js';
import { parsePrometheusText } from '../../adapters/common/prometheus.js';
import { baseConfig } from './fixtures.js';
import type { Loose } from './fixtures.js';

const RUNS = { numRuns: 150 };

/** A config-like value with one leaf (or key) changed: to a random JSON value, deleted, or duplicated. */
function mutated(base: unknown): fc.Arbitrary<unknown> {
  const paths: (string | number)[][] = [];
  const walk = (v: unknown, at: (string | number)[]): void => {
    paths.push(at);
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...at, i]));
    else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...at, k]);
  };
  walk(base, []);
  const value = fc.oneof(
    fc.jsonValue({ maxDepth: 2 }),
    fc.constantFrom(-1, 0, 1e300, -1e300, 1.5, '', ' ', 'x'.repeat(500), '1e999', null, [], {}, Number.MAX_SAFE_INTEGER + 2),
  );
  return fc.tuple(fc.constantFrom(...paths), fc.constantFrom('set', 'delete'), value).map(([at, how, v]) => {
    const copy = structuredClone(base) as Loose;
    if (at.length === 0) return how === 'set' ? v : copy;
    let parent: Loose = copy;
    for (const k of at.slice(0, -1)) parent = parent[k as string] as Loose;
    const last = at[at.length - 1] as string;
    if (how === 'delete') {
      if (Array.isArray(parent)) parent.splice(Number(last), 1);
      else delete parent[last];
    } else parent[last] = v;
    return copy;
  });
}

/** Runs `f`; an error must be one of `names`, with a bounded message. */
function refusesCleanly(f: () => unknown, names: readonly string[], maxChars = 20_000): unknown {
  try {
    return f();
  } catch (err) {
    expect(err, String(err)).to.be.instanceOf(Error);
    expect(names, `${(err as Error).name}: ${(err as Error).message.slice(0, 300)}`).to.include((err as Error).name);
    expect((err as Error).message.length).to.be.below(maxChars);
    return undefined;
  }
}

describe('properties of the parsers at the edge', function () {
  this.timeout(60_000);

  describe('traces', () => {
    const line = fc.oneof(
      fc.double({ min: 0, max: 1e5, noNaN: true }).map(String),
      fc.integer({ min: -10, max: 200_000 }).map(String),
      fc.constantFrom('', '#', 'nan', 'inf', '-0', '1e308', '1e999', '0x10', 'time', 'a,b', '"1,2",3', '\u0000', '\t', '1 2'),
      fc.string({ maxLength: 12 }),
    );
    const text = fc.oneof(
      fc.array(line, { maxLength: 40 }).map((ls) => ls.join('\n')),
      fc.array(line, { maxLength: 40 }).map((ls) => `time,model\n${ls.map((l, i) => (i % 3 === 0 ? l : `${l},m`)).join('\n')}`),
      fc.string({ maxLength: 200 }),
      fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1')),
    );

    it('return a usable workload or refuse with lines named', () => {
      fc.assert(fc.property(text, (t) => {
        const trace = refusesCleanly(() => parseTrace(t, 't.trace'), ['InvalidInputError']) as Float64Array | undefined;
        if (trace === undefined) {
          try { parseTrace(t, 't.trace'); } catch (err) {
            for (const p of (err as InvalidInputError).problems) expect(p.path).to.match(/^(line \d+)?$/);
          }
          return;
        }
        expect(trace.length).to.be.within(2, MAX_WORKLOAD_ARRIVALS);
        for (let i = 0; i < trace.length; i++) {
          const v = trace[i] as number;
          expect(Number.isFinite(v) && v >= 0).to.equal(true);
          if (i > 0) {
            const gap = v - (trace[i - 1] as number);
            expect(gap).to.be.within(0, MAX_TRACE_GAP_MS / 1000);
          }
        }
        expect(((trace[trace.length - 1] as number) - (trace[0] as number)) * 1000).to.be.at.most(MAX_WORKLOAD_SPAN_MS);
      }), RUNS);
    });
  });

  describe('arrival specs', () => {
    const kinds = ['poisson', 'gamma', 'step', 'ramp', 'spikes', 'weibull', ''];
    const keys = ['rate', 'duration', 'cv', 'seed', 'factor', 'at', 'every', 'width', 'from', 'to', 'x'];
    const values = fc.oneof(
      fc.double({ min: -10, max: 1e7, noNaN: true }).map(String),
      fc.constantFrom('60s', '1h', '25h', '1000000h', '0', '-1', 'nan', '1e999', '', '5ms', '0.0000001'),
    );
    const segment = fc.tuple(fc.constantFrom(...kinds), fc.array(fc.tuple(fc.constantFrom(...keys), values), { maxLength: 7 }))
      .map(([k, kv]) => `${k}:${kv.map(([a, b]) => `${a}=${b}`).join(',')}`);
    const spec = fc.oneof(fc.array(segment, { minLength: 1, maxLength: 3 }).map((s) => s.join(';')), fc.string({ maxLength: 80 }));

    it('return a spec within the workload limits or refuse it', () => {
      fc.assert(fc.property(spec, (s) => {
        const parsed = refusesCleanly(() => parseArrivalSpec(s), ['InvalidInputError']) as ReturnType<typeof parseArrivalSpec> | undefined;
        if (parsed === undefined) return;
        expect(expectedArrivals(parsed)).to.be.at.most(MAX_WORKLOAD_ARRIVALS);
        expect(parsed.segments.reduce((n, seg) => n + seg.durationMs, 0)).to.be.at.most(MAX_WORKLOAD_SPAN_MS);
      }), RUNS);
    });
  });

  describe('configs', () => {
    it('a mutated config loads or is refused with a ConfigError, never anything else', () => {
      fc.assert(fc.property(mutated(baseConfig()), (c) => {
        refusesCleanly(() => parseConfig(JSON.stringify(c), 'c.json', {}, () => { throw Object.assign(new Error('no files here'), { code: 'ENOENT' }); }), ['ConfigError']);
      }), RUNS);
    });

    it('random text loads or is refused with a ConfigError', () => {
      const text = fc.oneof(fc.string({ maxLength: 300 }), fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)));
      fc.assert(fc.property(text, (t) => {
        refusesCleanly(() => parseConfig(t, 'c.yaml', {}, () => ''), ['ConfigError']);
      }), RUNS);
    });

    it('a mutated profile is refused or warned about, never accepted with nonsense', () => {
      const profile = { model: 'm', hardware: 'cpu', points: [{ batchSize: 1, latencyMs: 2 }, { batchSize: 8, latencyMs: 12 }] };
      fc.assert(fc.property(mutated(profile), (p) => {
        const c = baseConfig();
        (c['profiles'] as unknown[]).push(p);
        const config = refusesCleanly(() => parseConfig(JSON.stringify(c), 'c.json', {}, () => ''), ['ConfigError']) as { profiles: { points: { latencyMs: number; throughputQps: number; batchSize: number }[] }[] } | undefined;
        if (config === undefined) return;
        for (const prof of config.profiles) {
          for (const pt of prof.points) {
            expect(pt.latencyMs).to.be.within(Number.MIN_VALUE, 3_600_000);
            expect(pt.throughputQps).to.be.at.most((pt.batchSize * 1000 * 10) / pt.latencyMs + 1e-9);
          }
        }
      }), RUNS);
    });

    it('checkProfileSense never throws on any numbers', () => {
      const num = fc.oneof(fc.double(), fc.integer(), fc.constantFrom(0, -1, 1e300, NaN, Infinity));
      const pts = fc.array(fc.record({ batchSize: num, latencyMs: num, throughputQps: fc.option(num, { nil: undefined }) }), { maxLength: 20 });
      fc.assert(fc.property(pts, (points) => {
        const r = checkProfileSense([{ model: 'm', hardware: 'h', points: points.map((p) => (p.throughputQps === undefined ? { batchSize: p.batchSize, latencyMs: p.latencyMs } : p as { batchSize: number; latencyMs: number; throughputQps: number })) }], () => 'p');
        for (const p of [...r.errors, ...r.warnings]) expect(p.path.startsWith('p')).to.equal(true);
      }), RUNS);
    });

    it('renderValue stays short on any value', () => {
      fc.assert(fc.property(fc.anything({ maxDepth: 4 }), (v) => {
        expect(renderValue(v).length).to.be.at.most(60);
      }), RUNS);
    });

    it('parseText refuses documents that expand past the limit, whatever their aliases', () => {
      fc.assert(fc.property(fc.integer({ min: 2, max: 12 }), fc.integer({ min: 2, max: 9 }), (depth, width) => {
        const lines = [`a0: &a0 [${Array.from({ length: width }, () => '1').join(',')}]`];
        for (let d = 1; d < depth; d++) lines.push(`a${d}: &a${d} [${Array.from({ length: width }, () => `*a${d - 1}`).join(',')}]`);
        const r = parseText(lines.join('\n'), 'x.yaml');
        const size = width ** depth;
        if (size > 2_000_000) expect(r.ok).to.equal(false);
        if (size < 500_000) expect(r.ok).to.equal(true);
      }), { numRuns: 40 });
    });
  });

  describe('plan files', () => {
    const config = parseConfig(JSON.stringify(baseConfig()), 'c.json', {}, () => '');
    const plan = {
      pipeline: 'classify-images', sloMs: 250, percentile: 99,
      stages: { resize: { hardware: 'cpu', batchSize: 1, replicas: 1 }, classify: { hardware: 'gpu-t4', batchSize: 8, replicas: 2 } },
      envelope: [{ windowMs: 1000, maxArrivals: 70, rateQps: 70 }],
    };

    it('a mutated plan is used only within the config\'s bounds', () => {
      fc.assert(fc.property(mutated(plan), (p) => {
        const loaded = refusesCleanly(() => parsePlan(JSON.stringify(p), 'p.json', config), ['InvalidInputError']) as ReturnType<typeof parsePlan> | undefined;
        if (loaded === undefined) return;
        for (const [name, s] of Object.entries(loaded.stages)) {
          expect(s.replicas, name).to.be.within(1, name === 'classify' ? 16 : 64);
          expect(s.batchSize, name).to.be.within(1, name === 'classify' ? (s.hardware === 'cpu' ? 4 : 32) : 8);
        }
      }), RUNS);
    });
  });

  describe('server bodies', () => {
    const fixture = (p: string): string => readFileSync(path.join('test/adapters', p), 'utf8');
    const mutate = (body: string): fc.Arbitrary<string> => fc.oneof(
      fc.nat({ max: body.length }).map((n) => body.slice(0, n)),
      fc.tuple(fc.nat({ max: Math.max(0, body.length - 1) }), fc.string({ maxLength: 8 })).map(([i, s]) => body.slice(0, i) + s + body.slice(i + 1)),
      fc.constantFrom('', '<html><body>502 Bad Gateway</body></html>', 'null', '[]', '{}', '{"a":1e999}', '9'.repeat(400), '\u0000\u0001'),
      fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
    );
    const WIRE = ['MalformedBodyError', 'TorchServeWireError', 'PrometheusSyntaxError', 'JsonSyntaxError', 'TextProtoError'];
    const parsers: readonly { name: string; body: string; parse: (text: string) => unknown }[] = [
      { name: 'Triton repository index', body: fixture('triton/fixtures/index-ensemble.json'), parse: triton.parseRepositoryIndex },
      { name: 'Triton model config', body: fixture('triton/fixtures/config-densenet-onnx.json'), parse: triton.parseModelConfig },
      { name: 'Triton model metadata', body: fixture('triton/fixtures/metadata-densenet-onnx.json'), parse: triton.parseModelMetadata },
      { name: 'Triton statistics', body: fixture('triton/fixtures/stats-f1.json'), parse: triton.parseStats },
      { name: 'Triton metrics', body: fixture('triton/fixtures/metrics-multi-gpu.txt'), parse: triton.parseMetrics },
      { name: 'Triton server metadata', body: fixture('triton/fixtures/server-metadata-2.23.json'), parse: triton.parseServerMetadata },
      { name: 'TorchServe describe', body: fixture('torchserve/fixtures/real-describe-sleepy.json'), parse: torchserve.parseDescribe },
      { name: 'TorchServe model list', body: fixture('torchserve/fixtures/real-list-page.json'), parse: torchserve.parseModelList },
      { name: 'TorchServe metrics', body: fixture('torchserve/fixtures/real-metrics.txt'), parse: (t) => torchserve.countersFromMetrics(torchserve.parseMetrics(t)) },
      { name: 'TorchServe key file', body: fixture('torchserve/fixtures/f9-key-file.json'), parse: torchserve.parseKeyFile },
      { name: 'TF Serving model status', body: fixture('tfserving/fixtures/status.json'), parse: tfserving.parseModelStatus },
      { name: 'TF Serving metadata', body: fixture('tfserving/fixtures/metadata-half-plus-two.json'), parse: tfserving.parseModelMetadata },
      { name: 'TF Serving predict', body: fixture('tfserving/fixtures/predict.json'), parse: tfserving.parsePredictResponse },
      { name: 'TF Serving metrics', body: fixture('tfserving/fixtures/metrics.txt'), parse: parseTfMetrics },
      { name: 'Prometheus text', body: fixture('triton/fixtures/metrics-f2-summary.txt'), parse: parsePrometheusText },
    ];
    for (const p of parsers) {
      it(`${p.name}: a mutated body parses or is refused as malformed`, () => {
        expect(() => p.parse(p.body), 'the recorded body parses').to.not.throw();
        fc.assert(fc.property(mutate(p.body), (body) => {
          refusesCleanly(() => p.parse(body), WIRE);
        }), { numRuns: 100 });
      });
    }
  });
});
