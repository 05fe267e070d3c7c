// Each server kind owns its settings (adapters/<kind>/settings.ts): agent.server is a discriminated
// union on kind where a key of another kind is an error naming its path, and each kind's flags map
// to the same adapter options as its config section.
import { expect } from 'chai';
import { serverSettingsSchema, adapterOptionsFromFlags } from '../../adapters/settings.js';
import { FlagError } from '../../adapters/common/server-settings.js';
import type { ServerFlags } from '../../adapters/common/server-settings.js';
import { problemsFromIssues } from '../../src/config/issues.js';
import type { ServerKind } from '../../src/ports/server-adapter.js';

function problems(server: unknown): string[] {
  const r = serverSettingsSchema.safeParse(server, { reportInput: true });
  return r.success ? [] : problemsFromIssues(r.error.issues, undefined).map((p) => `${p.path}: ${p.message}`);
}

describe('server settings: agent.server as a union on kind', () => {
  const cases: { name: string; given: Record<string, unknown>; want: RegExp[] }[] = [
    { name: 'a Triton-only key under torchserve', given: { kind: 'torchserve', url: 'http://ts:8080', grpcUrl: 'ts:8001' }, want: [/^grpcUrl: "ts:8001" — must not be set: only for server kind triton, not torchserve$/] },
    { name: 'a TorchServe-only key under triton', given: { kind: 'triton', url: 'http://t:8000', managementUrl: 'http://t:8081' }, want: [/^managementUrl: .* only for server kind torchserve, not triton$/] },
    { name: 'a TF Serving-only key under triton', given: { kind: 'triton', url: 'http://t:8000', restartCommand: ['x'] }, want: [/^restartCommand: .* only for server kind tfserving, not triton$/] },
    { name: 'every problem at once', given: { kind: 'triton', url: 'x', keyFile: 'k', typo: 1 }, want: [/^url: "x" — must be an http\(s\) URL$/, /^keyFile: .* only for server kind torchserve/, /^typo: unknown key — must be one of: kind, url, metricsUrl, grpcUrl, header, timeout$/] },
    { name: 'an unknown kind', given: { kind: 'vllm', url: 'http://v:1' }, want: [/^kind: "vllm" — must be one of: "triton", "torchserve", "tfserving"$/] },
    { name: 'no kind', given: { url: 'http://v:1' }, want: [/^kind: missing — must be one of/] },
    { name: 'a valid TorchServe section', given: { kind: 'torchserve', url: 'http://ts:8080', token: 'k', drainGrace: '1s' }, want: [] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = problems(c.given);
      expect(got).to.have.length(c.want.length, got.join('\n'));
      c.want.forEach((re, i) => expect(got[i]).to.match(re));
    });
  }
});

describe('server settings: fromFlags', () => {
  const cases: { name: string; kind: ServerKind; flags: ServerFlags; env?: NodeJS.ProcessEnv; want: unknown }[] = [
    {
      name: 'triton: URL, metrics, gRPC and header', kind: 'triton',
      flags: { url: 'http://T:8000/', metricsUrl: 'http://t:8002/metrics', grpcUrl: 'grpc://t:8001', header: 'x-key=v' },
      want: { kind: 'triton', url: 'http://t:8000', metricsUrl: 'http://t:8002/metrics', grpcUrl: 't:8001', restrictedApiHeader: { name: 'x-key', value: 'v' } },
    },
    {
      name: 'torchserve: sibling ports, the token from the environment', kind: 'torchserve', flags: { url: 'http://ts:8080/' }, env: { INFERLINE_TORCHSERVE_TOKEN: 'k' },
      want: { kind: 'torchserve', inferenceUrl: 'http://ts:8080', managementUrl: 'http://ts:8081', metricsUrl: 'http://ts:8082', managementKey: 'k', inferenceKey: 'k' },
    },
    {
      name: 'tfserving: models and the metrics path', kind: 'tfserving', flags: { url: 'http://tf:8501', models: 'a, b,a', metricsUrl: 'http://tf:8501/prom' },
      want: { kind: 'tfserving', url: 'http://tf:8501', models: ['a', 'b'], metricsPath: '/prom' },
    },
  ];
  for (const c of cases) {
    it(c.name, () => expect(adapterOptionsFromFlags(c.kind, c.flags, c.env ?? {})).to.deep.equal(c.want));
  }

  const bad: { name: string; kind: ServerKind; flags: ServerFlags; want: RegExp }[] = [
    { name: 'a Triton flag on TorchServe', kind: 'torchserve', flags: { url: 'http://x:1', grpcUrl: 'x:2' }, want: /^--grpc-url: only for --server triton$/ },
    { name: 'a TorchServe flag on TF Serving', kind: 'tfserving', flags: { url: 'http://x:1', models: 'm', token: 'k' }, want: /^--token: only for --server torchserve$/ },
    { name: 'TF Serving without models', kind: 'tfserving', flags: { url: 'http://x:1' }, want: /--models: required/ },
    { name: 'a malformed header', kind: 'triton', flags: { url: 'http://x:1', header: 'nope' }, want: /--header nope: must be name=value/ },
    { name: 'a URL that is not one', kind: 'triton', flags: { url: 'x:1' }, want: /--url x:1: must be an http or https URL/ },
  ];
  for (const c of bad) {
    it(`refuses ${c.name}`, () => expect(() => adapterOptionsFromFlags(c.kind, c.flags, {})).to.throw(FlagError, c.want));
  }
});
