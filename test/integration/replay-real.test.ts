// `inferline replay` against REAL servers, the user's flow end to end: start Triton 2.51 or
// TorchServe 0.12 with the sleep model (a batch of k sleeps 4 + 1·k ms; batching, queueing and HTTP
// are the server's own), profile it with `inferline profile` (batch sizes 1, 2, 4, 8, with the hop
// overhead), write a one-stage config on that profile file and the plan the server serves, and
// replay a Poisson workload through it; then a two-stage pipeline, Triton → TorchServe with half the
// queries going on, on the same servers and profiles. A server that is not installed is skipped
// with the reason (and the two-stage test with it).
//
// What can fail honestly here: the flow itself (profile, files, the fleet check, the replay), the
// per-stage visits (the same as the estimator's), failed queries, a figure that is missing or not
// sane, a median off by more than a factor of two. The accuracy bound (|P99 error| ≤ 50 %) is
// asserted only when the harness's verdict says the run measured the fleet; on an oversubscribed
// host the verdict says why not and the tail is printed, not judged: a machine shared with other
// work measures the machine.
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skipUnlessInstalled } from './servers/mocha.js';
import {
  PROFILE_BATCH_SIZES, profileLine, profileSleepServer, replaySleepServer, SLEEP_MODEL, startSleepServer, writePipelineFiles, writeReplayFiles,
} from './servers/replay-fixture.js';
import type { ProfiledServer, ReplayRun, SleepServer } from './servers/replay-fixture.js';
import type { ServerName } from './servers/status.js';

/** Loose enough for a CI machine when the harness is healthy; the bench's target is 10 %. */
const P99_BOUND = 0.5;
const RATE_QPS = 80;
const DURATION_S = 15;
const ARRIVAL = `poisson:rate=${RATE_QPS},duration=${DURATION_S}s,seed=3`;

function summaryLine(r: ReplayRun): string {
  const s = r.summary;
  const e = s.endToEnd;
  const st = s.stages[0];
  const pct = (x: number): string => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
  return `P50 ${e.predicted.p50Ms.toFixed(1)} / ${e.measured.p50Ms.toFixed(1)} ms (${pct(e.error.p50)}), `
    + `P99 ${e.predicted.p99Ms.toFixed(1)} / ${e.measured.p99Ms.toFixed(1)} ms (${pct(e.error.p99)}), `
    + `queue ${st?.queueMs.predicted.toFixed(2)} / ${st?.queueMs.measured?.toFixed(2) ?? '—'} ms, `
    + `batch ${st?.meanBatch.predicted.toFixed(2)} / ${st?.meanBatch.measured?.toFixed(2) ?? '—'}; `
    + `load ${s.health.loadAverage.toFixed(2)} on ${s.health.cores} cores; `
    + `${s.verdict.trustworthy ? 'trustworthy' : `NOT trustworthy: ${s.verdict.reasons.join('; ')}`}`;
}

const NAMES: Record<ServerName, string> = { triton: 'Triton 2.51', torchserve: 'TorchServe 0.12' };

/** Checks that hold on any host: the run completed, the visits are the estimator's, nothing failed, every figure is there and sane. */
function expectSoundReplay(r: ReplayRun, kinds: readonly ServerName[], queries: number): void {
  const s = r.summary;
  expect(r.code).to.equal(s.verdict.trustworthy ? 0 : 1);
  expect(s.queries).to.be.within(queries * 0.8, queries * 1.2);
  expect(s.health.failed, r.stderr).to.equal(0);
  expect(s.stages.map((st) => st.server)).to.deep.equal([...kinds]);
  for (const st of s.stages) {
    expect(st.failures, st.stage).to.equal(0);
    expect(st.visits.measured, `${st.stage}: visits measured = predicted`).to.equal(st.visits.predicted);
    expect(st.hopP50Ms.measured, st.stage).to.be.at.least(5); // a batch of one sleeps 5 ms
    expect(st.hopP99Ms.measured, st.stage).to.be.at.least(st.hopP50Ms.measured);
    expect(st.meanBatch.predicted, st.stage).to.be.at.least(1);
    // The server's own figures: Triton reports executions (mean batch) and queue time; TorchServe queue time only.
    expect(st.queueMs.measured, st.stage).to.be.a('number');
    if (st.server === 'triton') expect(st.meanBatch.measured, st.stage).to.be.within(1, 8);
  }
  expect(s.stages[0]?.visits.measured).to.equal(s.queries);
  // Figures on both sides, and sane: no query is faster than a batch of one's sleep (5 ms).
  for (const side of [s.endToEnd.predicted, s.endToEnd.measured]) {
    expect(side.p50Ms).to.be.at.least(5);
    expect(side.p99Ms).to.be.at.least(side.p50Ms);
  }
  expect(Number.isFinite(s.endToEnd.error.p99)).to.equal(true);
  // The median, which a stall of the host moves far less than the tail, within a factor of two either way.
  expect(s.endToEnd.measured.p50Ms / s.endToEnd.predicted.p50Ms, 'measured / predicted P50').to.be.within(0.5, 2);
  if (s.verdict.trustworthy) {
    expect(Math.abs(s.endToEnd.error.p99), 'P99 error on a healthy harness').to.be.at.most(P99_BOUND);
  } else {
    console.log(`      accuracy not judged: ${s.verdict.reasons.join('; ')}`);
  }
}

describe('inferline replay on real servers, sleep model (L(k) = 4 + 1·k ms)', function () {
  this.timeout(180_000);
  const dir = mkdtempSync(join(tmpdir(), 'inferline-replay-real-'));
  const servers = new Map<ServerName, SleepServer>();
  const profiled = new Map<ServerName, ProfiledServer>();

  after(async () => {
    for (const s of servers.values()) await s.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const kind of ['triton', 'torchserve'] as const satisfies readonly ServerName[]) {
    describe(NAMES[kind], function () {
      before(async function () {
        skipUnlessInstalled(this, kind);
        servers.set(kind, await startSleepServer(kind));
      });

      it('inferline profile measures L(k) at 1, 2, 4, 8 and the hop overhead, into a profile file', async () => {
        const p = await profileSleepServer(servers.get(kind) as SleepServer, dir);
        console.log(`      ${profileLine(p)}`);
        const prof = p.report.profiles[0];
        expect(prof?.model).to.equal(SLEEP_MODEL);
        expect(prof?.points.map((x) => x.batchSize)).to.deep.equal([...PROFILE_BATCH_SIZES]);
        // The sleep is the floor of a batch's time: 4 + k ms, whatever the host's load adds.
        for (const x of prof?.points ?? []) expect(x.latencyMs, `L(${x.batchSize})`).to.be.at.least(4 + x.batchSize - 0.5);
        const at = (k: number): number => prof?.points.find((x) => x.batchSize === k)?.latencyMs ?? Number.NaN;
        expect(at(8), 'L(8) vs L(1)').to.be.above(at(1));
        expect(prof?.hopOverheadMs, 'the hop overhead is measured').to.be.a('number').and.at.least(0);
        profiled.set(kind, p);
      });

      it(`replays ${ARRIVAL} open-loop and compares with the estimator: same visits, no failures, every figure`, async function () {
        const p = profiled.get(kind);
        if (p === undefined) this.skip();
        const r = await replaySleepServer(writeReplayFiles(dir, servers.get(kind) as SleepServer, p.file), ARRIVAL);
        console.log(`      ${summaryLine(r)} (${(r.wallMs / 1000).toFixed(1)} s)`);
        expectSoundReplay(r, [kind], RATE_QPS * DURATION_S);
      });
    });
  }

  describe('two stages: Triton → TorchServe, half the queries go on', function () {
    before(function () {
      skipUnlessInstalled(this, 'triton');
      skipUnlessInstalled(this, 'torchserve');
    });

    it(`replays ${ARRIVAL} through both, routed as the estimator routes`, async function () {
      const [tr, ts] = [profiled.get('triton'), profiled.get('torchserve')];
      if (tr === undefined || ts === undefined) throw new Error('both servers must have been profiled by the tests above');
      const files = writePipelineFiles(dir, 'two', [
        { name: 'a', server: servers.get('triton') as SleepServer, profileFile: tr.file },
        { name: 'b', server: servers.get('torchserve') as SleepServer, profileFile: ts.file },
      ], 0.5);
      const r = await replaySleepServer(files, ARRIVAL);
      console.log(`      ${summaryLine(r)} (${(r.wallMs / 1000).toFixed(1)} s)`);
      const b = r.summary.stages[1];
      console.log(`      stage b: ${b?.visits.measured} visits, hop P50 ${b?.hopP50Ms.predicted.toFixed(1)} / ${b?.hopP50Ms.measured.toFixed(1)} ms, P99 ${b?.hopP99Ms.predicted.toFixed(1)} / ${b?.hopP99Ms.measured.toFixed(1)} ms`);
      expectSoundReplay(r, ['triton', 'torchserve'], RATE_QPS * DURATION_S);
      expect(b?.visits.measured).to.be.within(r.summary.queries * 0.4, r.summary.queries * 0.6);
    });
  });
});
