// Secrets never leave (issue #15): a whole `inferline agent` lifecycle — start, a reload with a
// changed token, a reload with a token too short to accept, refused calls, stop — and every output
// of it (its log, every API response with and without the token, error bodies, the Prometheus
// page) is scanned for the secret values: the old and the new token, the rejected one, the
// Triton restricted-API header value, and the agent's push credential.
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { normaliseProfiles } from '../../src/core/model/profiles.js';
import { startTritonEmulator } from '../../src/emulator/index.js';
import type { TritonEmulator } from '../../src/emulator/index.js';
import { agentCredential } from '../../src/runtime/agent/credential.js';
import { freePorts, logTail, spawnGroup, stopGroup, type GroupProcess } from './servers/process.js';
import { REPO_ROOT } from './servers/status.js';
import { PROFILES } from './fleet-safety/harness.js';

const TOKEN_A = 'first-secret-AAAAAAAAAAAAAAAA';
const TOKEN_B = 'second-secret-BBBBBBBBBBBBBBB';
const TOKEN_BAD = 'shortBADtok';
const HEADER_VALUE = 'restricted-header-value-CCCCCC';

describe('secrets never leave an agent\'s outputs (issue #15)', function () {
  this.timeout(120_000);
  let dir = '';
  let server: TritonEmulator | undefined;
  let proc: GroupProcess | undefined;

  after(async () => {
    if (proc) await stopGroup(proc.pid, 5000).catch(() => undefined);
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('start, reload with a changed token, reload with a bad token, refused calls, stop: no secret in any output', async () => {
    dir = mkdtempSync(join(tmpdir(), 'inferline-secrets-'));
    const { profiles } = normaliseProfiles(PROFILES, () => 'p');
    server = await startTritonEmulator({ profiles: profiles.filter((p) => p.model === 'preprocess'), hardware: 'cpu', port: 0, metricsPort: 0, instances: 1, reloadDelayMs: 10 });
    const [apiPort, metricsPort] = await freePorts(2) as [number, number];
    const configFile = join(dir, 'agent.json');
    const logFile = join(dir, 'agent.log');
    const config = (token: string): string => JSON.stringify({
      hardware: [{ name: 'cpu', costPerHour: 0.2 }],
      profiles: PROFILES.filter((p) => p.model === 'preprocess'),
      pipelines: [{ name: 'one', slo: { latencyMs: 100 }, arrival: 'poisson:rate=50,duration=10s', stages: [{ name: 'pre', model: 'preprocess', hardware: ['cpu'] }] }],
      coordination: { backend: 'memory' },
      telemetry: { prometheus: { enabled: true, port: metricsPort } },
      agent: {
        id: 'agent-s', mode: 'enforce', hardware: 'cpu', capacity: 4,
        server: { kind: 'triton', url: server?.url, metricsUrl: server?.metricsUrl, header: { name: 'x-restricted', value: HEADER_VALUE } },
        api: { port: apiPort, token },
        scrapeInterval: '500ms',
      },
    }, null, 2);
    writeFileSync(configFile, config(TOKEN_A));
    proc = spawnGroup(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src/cli/main.ts'), 'agent', '--config', configFile], { cwd: REPO_ROOT, env: { ...process.env }, logFile });
    const api = `http://127.0.0.1:${apiPort}`;
    const outputs: string[] = [];
    const get = async (path: string, token?: string, base = api): Promise<string> => {
      const res = await fetch(`${base}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(3000) });
      const text = `${res.status} ${JSON.stringify([...res.headers])} ${await res.text()}`;
      outputs.push(text);
      return text;
    };
    const post = async (path: string, body: unknown, headers: Record<string, string>): Promise<string> => {
      const res = await fetch(`${api}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body), signal: AbortSignal.timeout(3000) });
      const text = `${res.status} ${await res.text()}`;
      outputs.push(text);
      return text;
    };
    const until = async (what: string, fn: () => Promise<boolean>): Promise<void> => {
      const end = Date.now() + 30_000;
      while (!(await fn().catch(() => false))) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${logTail(logFile, 30)}`);
        await sleep(200);
      }
    };
    const everyEndpoint = async (token: string): Promise<void> => {
      for (const path of ['/healthz', '/readyz', '/v1/status', '/v1/plan']) {
        await get(path);
        await get(path, token);
        await get(path, TOKEN_BAD);
      }
      await get('/metrics', undefined, `http://127.0.0.1:${metricsPort}`);
      // Refused calls: a wrong token, a wrong credential, an id that is not a member.
      await post('/v1/replan', {}, { authorization: `Bearer ${TOKEN_BAD}zzzzzzzzzzzzzzzzz` });
      await post('/v1/samples', { agentId: 'agent-s', samples: [] }, { authorization: `Bearer ${token}`, 'x-inferline-credential': agentCredential(TOKEN_BAD, 'agent-s') });
      await post('/v1/samples', { agentId: 'ghost', samples: [] }, { authorization: `Bearer ${token}`, 'x-inferline-credential': agentCredential(token, 'ghost') });
    };

    await until('the agent to lead and plan', async () => (await get('/v1/plan')).startsWith('200'));
    await everyEndpoint(TOKEN_A);
    // The token is edited: the reload applies (the API keeps the old token until a restart).
    writeFileSync(configFile, config(TOKEN_B));
    await until('the token change reloaded', async () => (await get('/v1/status', TOKEN_A)).includes('agent.api.token: <redacted, changed>'));
    await everyEndpoint(TOKEN_A);
    // A token too short: rejected, the previous config stays.
    writeFileSync(configFile, config(TOKEN_BAD));
    await until('the bad token rejected', async () => /"result":"rejected"/.test(await get('/v1/status', TOKEN_A)));
    const rejected = await get('/v1/status', TOKEN_A);
    expect(rejected).to.include('agent.api.token');
    await everyEndpoint(TOKEN_A);
    await stopGroup(proc.pid, 10_000);
    proc = undefined;
    const log = readFileSync(logFile, 'utf8');
    expect(log).to.match(/config reloaded/);
    expect(log).to.match(/config change rejected/);
    expect(log).to.match(/stopped/);
    const all = [log, ...outputs].join('\n');
    const secrets = { TOKEN_A, TOKEN_B, TOKEN_BAD, HEADER_VALUE, credential: agentCredential(TOKEN_A, 'agent-s'), credentialB: agentCredential(TOKEN_B, 'agent-s') };
    for (const [name, value] of Object.entries(secrets)) {
      const at = all.indexOf(value);
      expect(at, `${name} found in an output: …${all.slice(Math.max(0, at - 200), at + 100)}…`).to.equal(-1);
    }
    expect(outputs.length).to.be.above(40);
  });
});
