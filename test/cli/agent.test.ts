// `inferline agent`: config errors exit 2 naming the path, before anything connects; a good config
// runs the agent until SIGTERM, which stops it cleanly (exit 0).
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { EventEmitter } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, STACK_FRAME } from '../helpers/cli.js';
import { runAgent } from '../../src/cli/commands/agent.js';
import { normaliseProfiles } from '../../src/core/model/profiles.js';
import { startTritonEmulator } from '../../src/emulator/index.js';

const BASE = {
  hardware: [{ name: 'cpu', costPerHour: 0.2 }],
  profiles: [{ model: 'm', hardware: 'cpu', points: [{ batchSize: 1, latencyMs: 2 }, { batchSize: 4, latencyMs: 4 }] }],
  pipelines: [{ name: 'p', slo: { latencyMs: 100 }, stages: [{ name: 's', model: 'm', hardware: ['cpu'] }] }],
  telemetry: { prometheus: { enabled: false } },
};
const AGENT = { id: 'a1', hardware: 'cpu', server: { kind: 'triton', url: 'http://127.0.0.1:1' }, api: { port: 0, token: 'cli-test-token-0123456789' } };

describe('inferline agent', function () {
  this.timeout(30_000);
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'inferline-agent-cli-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, value: unknown): string => {
    const f = join(dir, name);
    writeFileSync(f, JSON.stringify(value));
    return f;
  };

  const cases: { name: string; config: unknown; path: RegExp }[] = [
    { name: 'no agent section', config: BASE, path: /agent: missing — `inferline agent` needs an agent section/ },
    { name: 'missing token', config: { ...BASE, agent: { ...AGENT, api: { port: 0 } } }, path: /agent\.api\.token: missing — .*INFERLINE_AGENT__API__TOKEN/ },
    { name: 'unknown backend', config: { ...BASE, agent: AGENT, coordination: { backend: 'zookeeper' } }, path: /coordination\.backend: "zookeeper" — must be one of/ },
    { name: 'bad etcd endpoint', config: { ...BASE, agent: AGENT, coordination: { backend: 'etcd', etcd: { endpoints: ['127.0.0.1:2379'] } } }, path: /coordination\.etcd\.endpoints\[0\]: .*must be an etcd endpoint/ },
    { name: 'unknown hardware', config: { ...BASE, agent: { ...AGENT, hardware: 'tpu' } }, path: /agent\.hardware: "tpu" — must be one of the hardware names/ },
  ];
  for (const c of cases) {
    it(`exits 2 on ${c.name}, naming the path`, async () => {
      const r = await runCli(['agent', '--config', file(`${c.name.replace(/ /g, '-')}.json`, c.config)]);
      expect(r.code, r.stderr).to.equal(2);
      expect(r.stderr).to.match(c.path);
      expect(r.stderr).to.not.match(STACK_FRAME);
    });
  }

  it('exits 2 on an unknown --log-format', async () => {
    const r = await runCli(['agent', '--config', file('fmt.json', BASE), '--log-format', 'xml']);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/--log-format xml: must be text or json/);
  });

  it('runs until SIGTERM, serving its API, then stops (memory coordinator, emulated Triton)', async () => {
    const { profiles } = normaliseProfiles(BASE.profiles, () => 'p');
    const server = await startTritonEmulator({ profiles, port: 0, metricsPort: 0 });
    try {
      const config = file('good.json', { ...BASE, agent: { ...AGENT, server: { kind: 'triton', url: server.url, metricsUrl: server.metricsUrl } } });
      const signals = new EventEmitter();
      let err = '';
      const run = runAgent({ config }, { output: { out: () => undefined, err: (s) => { err += s; } }, exitCode: 0 }, signals);
      const url = await (async () => {
        for (let i = 0; i < 100; i++) {
          const m = /API (http:\/\/127\.0\.0\.1:\d+)/.exec(err);
          if (m) return m[1] as string;
          await new Promise((ok) => setTimeout(ok, 50));
        }
        throw new Error(`the agent did not start:\n${err}`);
      })();
      expect((await fetch(`${url}/healthz`)).status).to.equal(200);
      for (let i = 0; i < 100 && (await fetch(`${url}/readyz`)).status !== 200; i++) await new Promise((ok) => setTimeout(ok, 50));
      expect((await fetch(`${url}/readyz`)).status).to.equal(200);
      signals.emit('SIGTERM');
      await run;
      expect(err).to.match(/agent a1 stopped/);
      let refused = false;
      try {
        await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
      } catch {
        refused = true;
      }
      expect(refused).to.equal(true);
    } finally {
      await server.stop();
    }
  });

  it('with --no-watch reloads only on SIGHUP: a valid edit applies, with its diff', async () => {
    const { profiles } = normaliseProfiles(BASE.profiles, () => 'p');
    const server = await startTritonEmulator({ profiles, port: 0, metricsPort: 0 });
    try {
      const good = { ...BASE, agent: { ...AGENT, id: 'a2', server: { kind: 'triton', url: server.url, metricsUrl: server.metricsUrl } } };
      const config = file('hup.json', good);
      const signals = new EventEmitter();
      let err = '';
      const run = runAgent({ config, watch: false }, { output: { out: () => undefined, err: (s) => { err += s; } }, exitCode: 0 }, signals);
      let url: string | undefined;
      for (let i = 0; i < 100 && url === undefined; i++) {
        url = /API (http:\/\/127\.0\.0\.1:\d+)/.exec(err)?.[1];
        await new Promise((ok) => setTimeout(ok, 50));
      }
      const status = async () => (await (await fetch(`${url}/v1/status`, { headers: { authorization: `Bearer ${AGENT.api.token}` } })).json()) as { mode: string; config: { lastReload?: { result: string; diff: string[] } } };
      expect((await status()).mode).to.equal('recommend');
      writeFileSync(config, JSON.stringify({ ...good, agent: { ...good.agent, mode: 'enforce' } }));
      await new Promise((ok) => setTimeout(ok, 600));
      expect((await status()).mode).to.equal('recommend'); // not watched
      signals.emit('SIGHUP');
      let s = await status();
      for (let i = 0; i < 40 && s.mode !== 'enforce'; i++) {
        await new Promise((ok) => setTimeout(ok, 50));
        s = await status();
      }
      expect(s.mode).to.equal('enforce');
      expect(s.config.lastReload?.result).to.equal('applied');
      expect(s.config.lastReload?.diff).to.include('agent.mode: "recommend" → "enforce"');
      signals.emit('SIGTERM');
      await run;
    } finally {
      await server.stop();
    }
  });
});
