import { expect } from 'chai';
import { PROFILES, startFleet, until, TOKEN } from './fleet-fixture.js';
import { agentCredential } from '../../../src/runtime/agent/credential.js';
import type { LeaderStatus } from '../../../src/runtime/agent/index.js';

describe('runtime/agent: a fleet in one process (memory coordinator, emulated Triton)', function () {
  this.timeout(60_000);

  it('elects one leader, plans, and brings every server to the planned replicas and batch', async () => {
    const fleet = await startFleet([
      { id: 'a-pre', model: 'preprocess', hardware: 'cpu' },
      { id: 'b-cls', model: 'classify', hardware: 'gpu' },
    ]);
    try {
      const leader = await until('a leader', () => fleet.members.find((m) => m.agent.isLeader));
      expect(fleet.members.filter((m) => m.agent.isLeader)).to.have.length(1);
      const status = (leader.agent.status() as { fleet: LeaderStatus }).fleet;
      const plan = await until('a plan', () => (leader.agent.status() as { fleet: LeaderStatus }).fleet.pipelines[0]?.plan);
      expect(plan.feasible).to.equal(true);
      expect(status.members.map((m) => m.agentId)).to.deep.equal(['a-pre', 'b-cls']);
      for (const [stage, model, member] of [['pre', 'preprocess', 0], ['cls', 'classify', 1]] as const) {
        const want = plan.stages[stage];
        const server = fleet.members[member]?.server;
        await until(`${stage} at ${want?.replicas}×, batch ${want?.batchSize}`, () => {
          const e = server?.engine(model);
          return e !== undefined && e.replicas === want?.replicas && e.batching.maxBatch === want?.batchSize;
        });
      }
      // Every agent's /v1/plan shows the same plan; /v1/status says who leads.
      for (const m of fleet.members) {
        const res = await fetch(`${m.agent.url}/v1/plan`);
        expect(res.status).to.equal(200);
        const plans = await res.json() as { stages: Record<string, unknown> }[];
        expect(plans[0]?.stages).to.deep.equal(plan.stages);
        const st = await (await fetch(`${m.agent.url}/v1/status`)).json() as { leader: { leaderId: string } };
        expect(st.leader.leaderId).to.equal(leader.agent.id);
      }
    } finally {
      await fleet.stop();
    }
  });

  it('scales the classifier up on a burst, within about a second of the burst reaching the counters', async () => {
    const fleet = await startFleet([
      { id: 'a-pre', model: 'preprocess', hardware: 'cpu' },
      { id: 'b-cls', model: 'classify', hardware: 'gpu' },
    ]);
    try {
      const leader = await until('a leader', () => fleet.members.find((m) => m.agent.isLeader));
      const plan = await until('a plan', () => (leader.agent.status() as { fleet: LeaderStatus }).fleet.pipelines[0]?.plan);
      const cls = fleet.members[1]?.server;
      const pre = fleet.members[0]?.server;
      await until('planned replicas applied', () => cls?.engine('classify')?.replicas === plan.stages['cls']?.replicas);
      const planned = plan.stages['cls']?.replicas as number;
      // A burst at 4× the planned rate into the entry stage (and on through the classifier).
      const started = Date.now();
      let stop = false;
      const load = (async () => {
        while (!stop) {
          for (let i = 0; i < 12; i++) void pre?.engine('preprocess')?.submit(1).then(() => cls?.engine('classify')?.submit(1)).catch(() => undefined);
          await new Promise((ok) => setTimeout(ok, 20));
        }
      })();
      const grown = await until('a scale-up on the server', () => ((cls?.engine('classify')?.replicas ?? 0) > planned ? cls?.engine('classify')?.replicas : undefined), 10_000);
      const tookMs = Date.now() - started;
      stop = true;
      await load;
      expect(grown).to.be.above(planned);
      expect(tookMs).to.be.below(5000);
    } finally {
      await fleet.stop();
    }
  });

  it('refuses samples without the token, and malformed samples with 400 naming the field', async () => {
    const fleet = await startFleet([{ id: 'a-pre', model: 'preprocess', hardware: 'cpu' }]);
    try {
      const leader = await until('a leader', () => fleet.members.find((m) => m.agent.isLeader));
      const url = `${leader.agent.url}/v1/samples`;
      // A member pushes as itself: its id and its credential (fleet-safety.test.ts has the refusals).
      const post = (body: unknown, token?: string) => fetch(url, {
        method: 'POST', body: JSON.stringify(body),
        headers: { 'content-type': 'application/json', 'x-inferline-credential': agentCredential(TOKEN, 'a-pre'), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      });
      expect((await post({ agentId: 'x', samples: [] })).status).to.equal(401);
      expect((await post({ agentId: 'x', samples: [] }, 'wrong-token-0123456789')).status).to.equal(401);
      const bad = await post({ agentId: 'x', samples: [{ model: 'preprocess', fromMs: 0, toMs: 1000, arrivals: 'many' }] }, TOKEN);
      expect(bad.status).to.equal(400);
      expect(((await bad.json()) as { error: string }).error).to.equal('bad samples: samples[0].arrivals must be a finite number');
      expect((await post({ agentId: 'a-pre', samples: [{ model: 'preprocess', fromMs: 0, toMs: 1000, arrivals: 5 }] }, TOKEN)).status).to.equal(204);
    } finally {
      await fleet.stop();
    }
  });
});

describe('runtime/agent: profiles the leader lacks, and placement shortfalls', function () {
  this.timeout(90_000);

  it('asks the agent with the hardware for an active profile, reports the shortfall meanwhile, then plans on it', async () => {
    // The config knows classify only on cpu, which no agent has; the one classify server is a gpu.
    const cpuOnly = PROFILES.map((p) => (p.model === 'classify' ? { ...p, hardware: 'cpu', points: p.points.map((q) => ({ ...q, latencyMs: q.latencyMs * 3 })) } : p));
    const pipelines = [{
      name: 'images', slo: { latencyMs: 400 }, arrival: 'poisson:rate=20,duration=20s',
      stages: [
        { name: 'pre', model: 'preprocess', hardware: ['cpu'], next: [{ stage: 'cls', fraction: 1 }] },
        { name: 'cls', model: 'classify', hardware: ['cpu', 'gpu'] },
      ],
    }];
    const commands: string[][] = [];
    const fleet = await startFleet([
      { id: 'a-pre', model: 'preprocess', hardware: 'cpu' },
      { id: 'b-cls', model: 'classify', hardware: 'gpu' },
    ], {
      extra: { profiles: cpuOnly, pipelines, placement: { orchestratorCommand: ['provision', '--pipeline={pipeline}', '{stage}', '{model}@{hardware}', '+{missing}'] } },
      agentExtra: { 'b-cls': { profiling: { active: true } }, 'a-pre': { profiling: { active: false } } },
      runCommand: (argv) => { commands.push([...argv]); return Promise.resolve(); },
    });
    try {
      const leader = await until('a leader', () => fleet.members.find((m) => m.agent.isLeader));
      const fleetOf = () => (leader.agent.status() as { fleet: LeaderStatus }).fleet;
      // First plan: classify on cpu (the only profile), which no agent hosts: a shortfall.
      const first = await until('a first plan', () => fleetOf().pipelines[0]?.plan);
      expect(first.stages['cls']?.hardware).to.equal('cpu');
      const short = await until('a shortfall', () => fleetOf().shortfalls[0]);
      expect(short.line).to.match(/^shortfall: images\/cls wants \d+ replicas of classify on cpu, 0 placed \(no agent hosts classify on cpu\)$/);
      expect(leader.telemetry.shortfalls.some((s) => s.stage === 'cls' && s.missing > 0)).to.equal(true);
      // The orchestrator command ran once for it, placeholders filled, no shell.
      await until('the orchestrator command', () => commands.length > 0);
      expect(commands[0]).to.deep.equal(['provision', '--pipeline=images', 'cls', 'classify@cpu', `+${short.wanted}`]);
      // The gpu agent profiles classify actively; the leader re-plans on gpu and places it.
      const done = await until('the active profile', () => fleetOf().profileRequests.find((r) => r.agentId === 'b-cls' && r.state === 'done'), 60_000);
      expect(done.model).to.equal('classify');
      const second = await until('a plan on gpu', () => (fleetOf().pipelines[0]?.plan?.stages['cls']?.hardware === 'gpu' ? fleetOf().pipelines[0]?.plan : undefined), 10_000);
      await until('no shortfall', () => fleetOf().shortfalls.length === 0);
      expect(commands).to.have.length(1); // not again for the same shortfall
      const cls = fleet.members[1]?.server;
      await until('classify at the planned replicas', () => cls?.engine('classify')?.replicas === second.stages['cls']?.replicas);
      expect(fleet.members[1]?.logs.some((l) => /active profile of classify on gpu, at the leader's request/.test(l))).to.equal(true);
    } finally {
      await fleet.stop();
    }
  });
});

describe('runtime/agent: the fleet policy keeps the most recently written config\'s SLOs', function () {
  this.timeout(30_000);

  it('refuses a policy older than the stored one (an agent restarted on a stale file), takes a newer one and re-plans', async () => {
    const fleet = await startFleet([{ id: 'a-pre', model: 'preprocess', hardware: 'cpu' }, { id: 'b-cls', model: 'classify', hardware: 'gpu' }]);
    try {
      const leader = await until('a leader', () => fleet.members.find((m) => m.agent.isLeader));
      const fleetOf = () => (leader.agent.status() as { fleet: LeaderStatus }).fleet;
      const stored = await until('the stored policy', () => fleetOf().policy);
      expect(stored.slos['images']).to.deep.equal({ latencyMs: 150, percentile: 99 });
      const post = (atMs: number) => fetch(`${leader.agent.url}/v1/policy`, {
        method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({ slos: { images: { latencyMs: 90, percentile: 99 } }, prices: { cpu: 0.2, gpu: 0.9 }, from: 'old-file', atMs }),
      });
      const stale = await post(stored.atMs - 60_000);
      expect(stale.status).to.equal(409);
      expect(((await stale.json()) as { error: string }).error).to.match(/written later than/);
      await new Promise((ok) => setTimeout(ok, 300));
      expect(fleetOf().pipelines[0]?.plan?.sloMs).to.equal(150);
      expect((await post(stored.atMs + 60_000)).status).to.equal(204);
      await until('the plan for the newer SLO', () => fleetOf().pipelines[0]?.plan?.sloMs === 90);
      expect((await post(Date.now())).status).to.equal(409); // now older than what was stored
    } finally {
      await fleet.stop();
    }
  });
});
