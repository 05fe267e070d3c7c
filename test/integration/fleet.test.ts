// The fleet for real: four `inferline agent` processes on a REAL etcd (Debian's etcd-server), each
// beside an emulated Triton server in this process (two of them host the same stage; one of those
// fails every change). Shows the issue's "what must hold" lines: one leader, the plan applied to
// every healthy server; kill -9 of the leader gives a new leader within the
// lease TTL + 2 s, and a write replayed with the old epoch is refused; a restarted agent changes
// nothing already true; etcd stopped for 30 s leaves every server as it was, with no flapping, and
// the fleet recovers; a server whose management calls fail gets capped retries while the rest of
// the fleet goes on; an SLO edited in a running agent's file changes the plan, and a broken edit
// changes nothing. Skipped, with the reason printed, only when etcd is not installed.
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { EtcdCoordinator } from '../../src/coordination/etcd.js';
import { StaleEpochError } from '../../src/ports/coordinator.js';
import { normaliseProfiles } from '../../src/core/model/profiles.js';
import { startTritonEmulator } from '../../src/emulator/index.js';
import type { TritonEmulator } from '../../src/emulator/index.js';
import { etcdOrSkip, startEtcd, type EtcdHandle } from './etcd/etcd-process.js';
import { freePorts, logTail, spawnGroup, stopGroup, type GroupProcess } from './servers/process.js';
import { REPO_ROOT } from './servers/status.js';

const TOKEN = 'fleet-test-token-0123456789';
const LEASE_MS = 3000;
const PROFILES = [
  { model: 'preprocess', hardware: 'cpu', points: [{ batchSize: 1, latencyMs: 3 }, { batchSize: 4, latencyMs: 6 }, { batchSize: 8, latencyMs: 10 }] },
  { model: 'classify', hardware: 'gpu', points: [{ batchSize: 1, latencyMs: 12 }, { batchSize: 4, latencyMs: 20 }, { batchSize: 8, latencyMs: 32 }] },
  { model: 'postprocess', hardware: 'cpu', points: [{ batchSize: 1, latencyMs: 2 }, { batchSize: 8, latencyMs: 6 }] },
];

interface Node {
  readonly id: string;
  readonly model: string;
  readonly hardware: string;
  readonly server: TritonEmulator;
  readonly configFile: string;
  readonly logFile: string;
  readonly apiUrl: string;
  proc: GroupProcess | undefined;
}

interface Status {
  agent: string;
  leader: { leaderId?: string; epoch: number; self: boolean };
  desired?: { epoch: number; revision: string; models: { model: string; replicas: number; maxBatchSize?: number }[] };
  reconcile: { failures: { message: string; attempts: number; gaveUp: boolean }[] };
  config: { lastReload?: { result: string; problems: string[] } };
  fleet?: { pipelines: { plan?: { sloMs: number; stages: Record<string, { hardware: string; batchSize: number; replicas: number }> } }[] };
}

function configText(node: { id: string; hardware: string; serverUrl: string; metricsUrl: string; apiPort: number }, etcd: string, prefix: string, sloMs: number): string {
  return JSON.stringify({
    hardware: [{ name: 'cpu', costPerHour: 0.2 }, { name: 'gpu', costPerHour: 0.9 }],
    profiles: PROFILES,
    pipelines: [{
      name: 'images', slo: { latencyMs: sloMs }, arrival: 'poisson:rate=150,duration=20s',
      stages: [
        { name: 'pre', model: 'preprocess', hardware: ['cpu'], next: [{ stage: 'cls', fraction: 1 }] },
        { name: 'cls', model: 'classify', hardware: ['gpu'], next: [{ stage: 'post', fraction: 1 }] },
        { name: 'post', model: 'postprocess', hardware: ['cpu'] },
      ],
    }],
    coordination: {
      backend: 'etcd', leaseDuration: `${LEASE_MS}ms`, renewDeadline: '2000ms', retryPeriod: '500ms', memberTtl: '2s',
      etcd: { endpoints: [etcd], prefix, requestTimeout: '2s' },
    },
    telemetry: { prometheus: { enabled: false } },
    agent: {
      id: node.id, mode: 'enforce', hardware: node.hardware, capacity: 8,
      server: { kind: 'triton', url: node.serverUrl, metricsUrl: node.metricsUrl },
      api: { port: node.apiPort, token: TOKEN },
      scrapeInterval: '500ms',
      reconcile: { interval: '500ms', cooldown: '0s', batchCooldown: '0s', maxAttempts: 3, retryBase: '200ms' },
    },
  }, null, 2);
}

/** Forwards to a server, but answers 500 to every model load (its management calls). */
async function failingProxy(target: string): Promise<{ url: string; loads: () => number; close: () => Promise<void> }> {
  let loads = 0;
  const server = http.createServer((req, res) => {
    if (req.method === 'POST' && /\/load$/.test(req.url ?? '')) {
      loads++;
      req.resume();
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end('{"error":"injected failure: the repository is read-only"}');
      return;
    }
    const up = http.request(`${target}${req.url ?? '/'}`, { method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => { res.writeHead(502); res.end(); });
    req.pipe(up);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    loads: () => loads,
    close: () => new Promise<void>((ok) => { server.closeAllConnections(); server.close(() => ok()); }),
  };
}

async function status(node: Node): Promise<Status | undefined> {
  try {
    // The config and fleet parts of the status need the token (docs/fleet-safety.md).
    const res = await fetch(`${node.apiUrl}/v1/status`, { headers: { authorization: `Bearer ${TOKEN}` }, signal: AbortSignal.timeout(1000) });
    return res.ok ? await res.json() as Status : undefined;
  } catch {
    return undefined;
  }
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs: number, nodes: readonly Node[] = []): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${nodes.map((n) => `--- ${n.id}\n${logTail(n.logFile, 12)}`).join('\n')}`);
    }
    await sleep(100);
  }
}

describe('a fleet of inferline agents on real etcd', function () {
  this.timeout(240_000);
  let etcd: EtcdHandle | undefined;
  let dir: string;
  const nodes: Node[] = [];
  let proxy: Awaited<ReturnType<typeof failingProxy>> | undefined;
  const prefix = `/inferline-fleet-${process.pid}/`;

  const startAgent = (n: Node): void => {
    n.proc = spawnGroup(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src/cli/main.ts'), 'agent', '--config', n.configFile], {
      cwd: REPO_ROOT, env: { ...process.env, INFERLINE_DEBUG: '1' }, logFile: n.logFile,
    });
  };
  const leaderOf = async (live: readonly Node[]): Promise<{ node: Node; epoch: number } | undefined> => {
    const all = await Promise.all(live.map(status));
    if (all.some((s) => s === undefined)) return undefined;
    const ids = new Set(all.map((s) => s?.leader.leaderId));
    const self = live.filter((_, i) => all[i]?.leader.self);
    if (ids.size !== 1 || self.length !== 1 || [...ids][0] !== self[0]?.id) return undefined;
    return { node: self[0] as Node, epoch: all[0]?.leader.epoch as number };
  };
  const planOf = async (leader: Node) => (await status(leader))?.fleet?.pipelines[0]?.plan;
  const engineOf = (n: Node) => n.server.engine(n.model);

  before(async function () {
    etcd = await startEtcd(etcdOrSkip(this));
    dir = mkdtempSync(join(tmpdir(), 'inferline-fleet-'));
    const { profiles } = normaliseProfiles(PROFILES, () => 'p');
    const ports = await freePorts(4);
    const specs = [
      { id: 'agent-pre', model: 'preprocess', hardware: 'cpu', instances: 1 },
      { id: 'agent-cls', model: 'classify', hardware: 'gpu', instances: 1 },
      { id: 'agent-post', model: 'postprocess', hardware: 'cpu', instances: 1 },
      // A second postprocess server: it starts at 3 instances, its share of the plan is fewer, and
      // every load (change) it is sent fails.
      { id: 'agent-post-b', model: 'postprocess', hardware: 'cpu', instances: 3 },
    ];
    for (const [i, s] of specs.entries()) {
      const server = await startTritonEmulator({ profiles: profiles.filter((p) => p.model === s.model), hardware: s.hardware, port: 0, metricsPort: 0, instances: s.instances, reloadDelayMs: 10 });
      let url = server.url;
      if (s.id === 'agent-post-b') {
        proxy = await failingProxy(server.url);
        url = proxy.url;
      }
      const apiPort = ports[i] as number;
      const configFile = join(dir, `${s.id}.json`);
      writeFileSync(configFile, configText({ id: s.id, hardware: s.hardware, serverUrl: url, metricsUrl: server.metricsUrl, apiPort }, etcd.endpoint, prefix, 150));
      nodes.push({ ...s, server, configFile, logFile: join(dir, `${s.id}.log`), apiUrl: `http://127.0.0.1:${apiPort}`, proc: undefined });
    }
    for (const n of nodes) startAgent(n);
  });

  after(async function () {
    for (const n of nodes) if (n.proc) await stopGroup(n.proc.pid, 5000);
    for (const n of nodes) await n.server.stop();
    await proxy?.close();
    await etcd?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('elects one leader and brings each of three servers to the planned replicas and batch; a fourth that fails its changes gets capped retries', async function () {
    const { node: leader } = await until('one leader all agents agree on', () => leaderOf(nodes), 60_000, nodes);
    const plan = await until('a plan', () => planOf(leader), 10_000, nodes);
    const stages: Record<string, string> = { preprocess: 'pre', classify: 'cls', postprocess: 'post' };
    // Two servers host postprocess: the leader places the stage's replicas over both (the failing
    // one keeps at least its minimum), and the healthy one serves its share.
    const shareOf = async (n: Node): Promise<number | undefined> => (await status(n))?.desired?.models.find((m) => m.model === n.model)?.replicas;
    for (const n of nodes.filter((x) => x.id !== 'agent-post-b')) {
      const want = plan.stages[stages[n.model] as string];
      const replicas = n.model === 'postprocess' ? Math.max(1, await until(`${n.id}'s share`, () => shareOf(n), 10_000, nodes)) : want?.replicas;
      await until(`${n.id} at ${replicas} replicas, batch ${want?.batchSize}`, () => {
        const e = engineOf(n);
        return e?.replicas === replicas && e?.batching.maxBatch === want?.batchSize;
      }, 20_000, nodes);
    }
    const shares = await Promise.all(nodes.filter((x) => x.model === 'postprocess').map(shareOf));
    expect(shares.reduce((a, b) => (a ?? 0) + (b ?? 0), 0)).to.equal(plan.stages['post']?.replicas);
    // The post-b server refuses every change: its agent retries a capped number of times and says so.
    const post = nodes.find((n) => n.id === 'agent-post-b') as Node;
    const failures = await until('agent-post-b to give up', async () => {
      const f = (await status(post))?.reconcile.failures ?? [];
      return f.length > 0 && f.every((x) => x.gaveUp) ? f : undefined;
    }, 20_000, nodes);
    expect(failures[0]?.attempts).to.equal(3);
    expect(failures[0]?.message).to.match(/500/);
    const loads = proxy?.loads() ?? 0;
    await sleep(2000);
    expect(proxy?.loads()).to.equal(loads); // no retries after giving up
    expect(engineOf(post)?.replicas).to.equal(3);
  });

  it('kill -9 of the leader gives a new leader within lease TTL + 2 s; the old epoch\'s write is refused', async function () {
    const before = await until('a leader', () => leaderOf(nodes), 30_000, nodes);
    const desired = (await status(nodes.find((n) => n !== before.node) as Node))?.desired;
    const t0 = Date.now();
    process.kill(-(before.node.proc as GroupProcess).pid, 'SIGKILL');
    const rest = nodes.filter((n) => n !== before.node);
    const after = await until('a new leader', async () => {
      const l = await leaderOf(rest);
      return l && l.node !== before.node ? l : undefined;
    }, LEASE_MS + 8000, rest);
    const tookMs = Date.now() - t0;
    console.log(`      new leader ${after.node.id} (epoch ${after.epoch}) ${tookMs} ms after kill -9 of ${before.node.id} (epoch ${before.epoch})`);
    expect(tookMs).to.be.at.most(LEASE_MS + 2000);
    expect(after.epoch).to.be.above(before.epoch);
    // Replay a write of the dead leader's epoch: refused by etcd's transaction, nothing changes.
    const replayer = await EtcdCoordinator.create({
      identity: 'replayer', endpoints: [(etcd as EtcdHandle).endpoint], prefix, requestTimeoutMs: 2000,
      timing: { leaseDurationMs: LEASE_MS, renewDeadlineMs: 2000, retryPeriodMs: 500 }, memberTtlMs: 2000,
    });
    await replayer.start();
    try {
      const target = rest[0] as Node;
      const recordBefore = await replayer.readDesired(target.id);
      let refused: unknown;
      try {
        await replayer.writeDesired(target.id, { models: [{ model: target.model, replicas: 7 }], stages: {}, plans: [] }, before.epoch);
      } catch (err) {
        refused = err;
      }
      expect(refused).to.be.instanceOf(StaleEpochError);
      expect((await replayer.readDesired(target.id))?.revision).to.equal(recordBefore?.revision);
      expect(desired).to.not.equal(undefined);
    } finally {
      await replayer.stop(2000);
    }
    // The killed agent comes back, reads its desired state and changes nothing already true.
    const pre = nodes.find((n) => n.id === 'agent-pre') as Node;
    const replicas = engineOf(pre)?.replicas;
    const logBefore = readFileSync(before.node.logFile, 'utf8').length;
    startAgent(before.node);
    await until(`${before.node.id} back and following ${after.node.id}`, async () => (await status(before.node))?.leader.leaderId === after.node.id, 30_000, nodes);
    await sleep(2000);
    const restartLog = readFileSync(before.node.logFile, 'utf8').slice(logBefore);
    if (before.node.id !== 'agent-post-b') expect(restartLog, restartLog).to.not.match(/applied /);
    expect(engineOf(pre)?.replicas).to.equal(replicas);
  });

  it('etcd stopped for 30 s: every server stays as it was, no flapping; the fleet recovers', async function () {
    this.timeout(180_000);
    await until('a leader', () => leaderOf(nodes), 30_000, nodes);
    const shape = () => nodes.map((n) => `${n.id}:${engineOf(n)?.replicas}/${engineOf(n)?.batching.maxBatch}`).join(' ');
    const steady = shape();
    await (etcd as EtcdHandle).stop();
    const seen = new Set<string>();
    const t0 = Date.now();
    while (Date.now() - t0 < 30_000) {
      seen.add(shape());
      await sleep(250);
    }
    expect([...seen]).to.deep.equal([steady]);
    await (etcd as EtcdHandle).start();
    const back = await until('one leader again after the outage', () => leaderOf(nodes), 60_000, nodes);
    console.log(`      after the outage: ${back.node.id} leads (epoch ${back.epoch}) ${Date.now() - t0 - 30_000} ms after etcd restarted`);
    await sleep(2000);
    expect(shape()).to.equal(steady);
  });

  it('an SLO edited in a running agent\'s file changes the plan within one planner run; a broken edit changes nothing', async function () {
    const { node: leader } = await until('a leader', () => leaderOf(nodes), 30_000, nodes);
    const before = await until('a plan', () => planOf(leader), 10_000, nodes);
    // Edit a follower's file: its agent sends the new SLO to the leader, which stores it (fenced) and re-plans.
    const follower = nodes.find((n) => n !== leader) as Node;
    const text = readFileSync(follower.configFile, 'utf8');
    writeFileSync(follower.configFile, text.replace('"latencyMs": 150', '"latencyMs": 90'));
    const after = await until('the plan for the new SLO', async () => {
      const p = await planOf(leader);
      return p?.sloMs === 90 ? p : undefined;
    }, 10_000, nodes);
    expect(after.sloMs).to.equal(90);
    expect(before.sloMs).to.equal(150);
    // Every agent sees the same plan.
    for (const n of nodes) {
      await until(`${n.id} to show the new plan`, async () => {
        const res = await fetch(`${n.apiUrl}/v1/plan`);
        return res.ok && ((await res.json()) as { sloMs: number }[])[0]?.sloMs === 90;
      }, 10_000, nodes);
    }
    // A broken edit is rejected with its problems, and the plan stays.
    writeFileSync(follower.configFile, text.replace('"latencyMs": 150', '"latencyMs": "soon"'));
    const reload = await until('the broken edit to be rejected', async () => {
      const r = (await status(follower))?.config.lastReload;
      return r?.result === 'rejected' ? r : undefined;
    }, 10_000, nodes);
    expect(reload.problems.join('\n')).to.match(/pipelines\[0\]\.slo\.latencyMs/);
    await sleep(1500);
    expect((await planOf(leader))?.sloMs).to.equal(90);
  });
});
