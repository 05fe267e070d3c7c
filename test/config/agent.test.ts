import { expect } from 'chai';
import { agentAdapterOptions } from '../../src/cli/commands/agent.js';
import { edited, load, problemsOf, type Files, type Loose } from './fixtures.js';

const AGENT = { hardware: 'gpu', server: { kind: 'triton', url: 'http://127.0.0.1:8000/' }, api: { token: 'a-long-enough-token' } };
const withAgent = (f: (a: Loose) => void = () => undefined) => edited((c) => {
  c.agent = structuredClone(AGENT);
  f(c.agent);
});

describe('config: the agent section', () => {
  it('fills in defaults: mode recommend, capacity from the hardware, port 8470, 100 ms scrape, 1 s push interval', () => {
    const { agent, placement } = load(withAgent((a) => { a.id = 'node-1-triton'; }));
    expect(agent?.id).to.equal('node-1-triton');
    expect(agent?.mode).to.equal('recommend');
    expect(agent?.capacity).to.equal(2); // the gpu hardware's capacity
    expect(agent?.server).to.deep.equal({ kind: 'triton', url: 'http://127.0.0.1:8000', timeoutMs: 5000 });
    expect(agent?.api).to.deep.equal({ host: '127.0.0.1', port: 8470, advertiseUrl: 'http://127.0.0.1:8470', token: 'a-long-enough-token' });
    expect(agent?.scrapeIntervalMs).to.equal(100);
    expect(agent?.pushIntervalMs).to.equal(1000);
    expect(agent?.reconcile.cooldownMs).to.equal(10_000);
    expect(placement).to.deep.equal({
      backend: 'command', commandTimeoutMs: 30_000, workloads: [], externalScaler: { enabled: false, host: '127.0.0.1', port: 8471 },
    });
  });

  it('a push interval shorter than the scrape interval is the scrape interval (a push every scrape)', () => {
    const { agent } = load(withAgent((a) => { a.scrapeInterval = '500ms'; a.pushInterval = '200ms'; }));
    expect([agent?.scrapeIntervalMs, agent?.pushIntervalMs]).to.deep.equal([500, 500]);
  });

  it('TorchServe: archives, scaleDown and drainGrace reach the adapter\'s options (docs/scale-down.md)', () => {
    const { agent } = load(withAgent((a) => {
      a.server = { kind: 'torchserve', url: 'http://127.0.0.1:8080', archives: { m: ['m-a.mar', 'm-b.mar'] }, scaleDown: 'drain', drainGrace: '750ms' };
    }));
    expect(agent?.server).to.deep.include({ archives: { m: ['m-a.mar', 'm-b.mar'] }, scaleDown: 'drain', drainGraceMs: 750 });
    expect(agentAdapterOptions(agent as NonNullable<typeof agent>)).to.deep.include({ archives: { m: ['m-a.mar', 'm-b.mar'] }, scaleDown: 'drain', drainGraceMs: 750 });
  });

  it('Triton grpcUrl reaches the adapter options as given (none included), and is left out when absent', () => {
    for (const grpcUrl of ['grpc://127.0.0.1:8001', 'none']) {
      const { agent } = load(withAgent((a) => { a.server.grpcUrl = grpcUrl; }));
      expect(agentAdapterOptions(agent as NonNullable<typeof agent>)).to.deep.include({ kind: 'triton', grpcUrl });
    }
    const { agent } = load(withAgent());
    expect(agentAdapterOptions(agent as NonNullable<typeof agent>)).to.not.have.property('grpcUrl');
  });

  it('defaults the id to the host name and the server kind', () => {
    expect(load(withAgent()).agent?.id).to.match(/^[A-Za-z0-9][-A-Za-z0-9_.]*-triton$/);
  });

  it('reads the token from its file, relative to the config', () => {
    const files: Files = { 'secret/token': 'from-the-file-0123456789\n' };
    const { agent } = load(withAgent((a) => { delete a.api.token; a.api.tokenFile = 'secret/token'; }), files);
    expect(agent?.api.token).to.equal('from-the-file-0123456789');
  });

  it('takes the token from INFERLINE_AGENT__API__TOKEN', () => {
    const { agent } = load(withAgent((a) => { delete a.api.token; }), {}, { INFERLINE_AGENT__API__TOKEN: 'env-token-0123456789' });
    expect(agent?.api.token).to.equal('env-token-0123456789');
  });

  it('a config without an agent section has none (plan and simulate need none)', () => {
    expect(load(edited(() => undefined)).agent).to.equal(undefined);
  });

  const cases: { name: string; edit: (a: Loose) => void; path: string; message: RegExp }[] = [
    { name: 'unknown hardware', edit: (a) => { a.hardware = 'tpu'; }, path: 'agent.hardware', message: /"tpu" — must be one of the hardware names: cpu, gpu/ },
    { name: 'unknown server kind', edit: (a) => { a.server.kind = 'vllm'; }, path: 'agent.server.kind', message: /must be one of/ },
    { name: 'bad server URL', edit: (a) => { a.server.url = 'localhost:8000'; }, path: 'agent.server.url', message: /must be an http\(s\) URL/ },
    { name: 'short token', edit: (a) => { a.api.token = 'short'; }, path: 'agent.api.token', message: /at least 16 characters/ },
    { name: 'unreadable token file', edit: (a) => { delete a.api.token; a.api.tokenFile = 'nope'; }, path: 'agent.api.tokenFile', message: /cannot read \/configs\/nope/ },
    { name: 'token and token file', edit: (a) => { a.api.tokenFile = 'x'; }, path: 'agent.api.tokenFile', message: /not both/ },
    { name: 'option of another server kind', edit: (a) => { a.server.keyFile = 'key_file.json'; }, path: 'agent.server.keyFile', message: /only for server kind torchserve, not triton/ },
    { name: 'a gRPC address without a port', edit: (a) => { a.server.grpcUrl = 'triton'; }, path: 'agent.server.grpcUrl', message: /must be host:port with a port in 1–65535/ },
    { name: 'a gRPC port out of range', edit: (a) => { a.server.grpcUrl = 'grpc://triton:99999'; }, path: 'agent.server.grpcUrl', message: /must be host:port with a port in 1–65535/ },
    { name: 'a gRPC address on TorchServe', edit: (a) => { a.server.kind = 'torchserve'; a.server.grpcUrl = '127.0.0.1:7070'; }, path: 'agent.server.grpcUrl', message: /only for server kind triton, not torchserve/ },
    { name: 'a drain option on Triton', edit: (a) => { a.server.scaleDown = 'drain'; }, path: 'agent.server.scaleDown', message: /only for server kind torchserve, not triton/ },
    { name: 'an unknown scale-down', edit: (a) => { a.server.kind = 'torchserve'; a.server.scaleDown = 'gently'; }, path: 'agent.server.scaleDown', message: /drain|interrupt/ },
    { name: 'TF Serving without models', edit: (a) => { a.server.kind = 'tfserving'; }, path: 'agent.models', message: /required for TF Serving/ },
    { name: 'bounds upside down', edit: (a) => { a.reconcile = { minReplicas: 5, maxReplicas: 2 }; }, path: 'agent.reconcile.minReplicas', message: /must be ≤ agent.reconcile.maxReplicas \(2\)/ },
    { name: 'bad mode', edit: (a) => { a.mode = 'apply'; }, path: 'agent.mode', message: /recommend|enforce/ },
    { name: 'bad id', edit: (a) => { a.id = 'no spaces allowed'; }, path: 'agent.id', message: /letters, digits/ },
    { name: 'unknown key', edit: (a) => { a.scrape = '1s'; }, path: 'agent.scrape', message: /unknown key/ },
  ];
  for (const c of cases) {
    it(`rejects ${c.name} at ${c.path}`, () => {
      const problems = problemsOf(withAgent(c.edit));
      const hit = problems.find((p) => p.path === c.path && c.message.test(p.message));
      expect(hit, problems.map((p) => `${p.path}: ${p.message}`).join('\n')).to.not.equal(undefined);
    });
  }

  it('rejects a planner schedule that is not a cron expression', () => {
    const problems = problemsOf(edited((c) => { c.planner = { schedule: 'every hour' }; }));
    expect(problems.map((p) => `${p.path}: ${p.message}`)).to.include('planner.schedule: "every hour" — must be a cron expression such as "*/15 * * * *" (minute hour day month weekday)');
  });
});
