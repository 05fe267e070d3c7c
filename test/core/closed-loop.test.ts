import { expect } from 'chai';
import { runClosedLoop, meanRate, staticEnvelope } from '../../src/core/sim/closed-loop.js';
import type { ControllerKind, PlanForLoop } from '../../src/core/sim/closed-loop.js';
import { Estimator } from '../../src/core/sim/estimator.js';
import type { Controller } from '../../src/core/sim/estimator.js';
import type { TunerController } from '../../src/core/controllers/tuner-controller.js';
import { compilePipeline } from '../../src/core/model/pipeline.js';
import { plan } from '../../src/core/planner/index.js';
import { generateTrace, parseArrivalSpec } from '../../src/core/arrival/spec.js';
import type { HardwareType, PipelineSpec } from '../../src/core/model/types.js';
import type { ProfileSet } from '../../src/core/model/profiles.js';
import { linearProfile, pipeline, profileSet, stage } from '../helpers/pipelines.js';
import { reference } from '../helpers/reference.js';

describe('core/closed-loop', function () {
  this.timeout(120_000);

  describe('the estimator with a controller in the loop', () => {
    const profiles = profileSet([linearProfile('a', 'cpu', 5, 5, [1, 2, 4])]);
    const spec = pipeline([stage('a')], 100);
    const trace = generateTrace(parseArrivalSpec('poisson:rate=100,duration=20s'), 1);

    /** A controller that sets fixed targets at given times, recording what it saw. */
    function scripted(at: Record<number, number>, tickMs = 1000): Controller & { seen: { t: number; provisioned: number; active: number }[] } {
      const seen: { t: number; provisioned: number; active: number }[] = [];
      let k = 0;
      return {
        name: 'scripted', tickMs, seen,
        observeArrival: () => undefined,
        tick(view) {
          k++;
          const s = view.stages[0];
          seen.push({ t: k, provisioned: s?.provisioned ?? -1, active: s?.active ?? -1 });
          return at[k] !== undefined ? { a: at[k] as number } : undefined;
        },
      };
    }

    it('activates new replicas only after the activation delay, and bills them from the start', () => {
      const c = scripted({ 2: 5 });
      const est = new Estimator(compilePipeline(spec), profiles);
      const r = est.estimateClosedLoop({ a: { hardware: 'cpu', batchSize: 4, replicas: 1 } }, trace, {
        seed: 1, sloMs: 100, percentile: 99, controller: c, maxReplicas: { a: 8 }, activationDelayMs: { a: 2500 }, pricePerHour: { a: 3600 },
      });
      // Tick 2 asks for 5; ticks 3 and 4 (1 s and 2 s later) still see 1 serving, tick 5 sees 5.
      expect(c.seen.slice(1, 5)).to.deep.equal([
        { t: 2, provisioned: 1, active: 1 }, { t: 3, provisioned: 5, active: 1 }, { t: 4, provisioned: 5, active: 1 }, { t: 5, provisioned: 5, active: 5 },
      ]);
      expect(r.scalingActions).to.equal(1);
      // $3600/h is $1/s per replica: 1 replica for 2 s, then 5 for the rest.
      const span = r.durationMs / 1000;
      expect(r.cost).to.be.closeTo(2 + 5 * (span - 2), 0.05);
    });

    it('a removed busy replica drains its batch; no query is lost', () => {
      const c = scripted({ 1: 6, 5: 1 }, 500);
      const est = new Estimator(compilePipeline(spec), profiles);
      const r = est.estimateClosedLoop({ a: { hardware: 'cpu', batchSize: 4, replicas: 2 } }, trace, {
        seed: 1, sloMs: 100, percentile: 99, controller: c, maxReplicas: { a: 8 },
      });
      expect(r.queries).to.equal(trace.length);
      expect(r.stages[0]?.visits).to.equal(trace.length);
      expect(c.seen.at(-1)?.provisioned).to.equal(1);
      expect(r.timeline.every((p) => (p.replicas['a'] as number) >= 1 && (p.replicas['a'] as number) <= 8)).to.equal(true);
    });
  });

  describe('controllers on a reference pipeline', () => {
    let spec: PipelineSpec;
    let hardware: readonly HardwareType[];
    let profiles: ProfileSet;
    let planned: PlanForLoop;
    let coarse: PlanForLoop;
    // A ×4 step with CV 4 bursts: the reference "steps" workload (shared/data/pipelines.yaml).
    const trace = generateTrace(parseArrivalSpec('gamma:rate=100,cv=1,duration=120s;gamma:rate=400,cv=4,duration=120s;gamma:rate=100,cv=1,duration=120s'), 2);

    before(async () => {
      const ref = await reference();
      spec = ref.config.pipelines.find((p) => p.name === 'video-monitoring') as PipelineSpec;
      hardware = ref.config.hardware;
      profiles = ref.profiles;
      const planTrace = generateTrace(parseArrivalSpec('gamma:rate=150,cv=4,duration=60s'), 1);
      const mk = (planner: 'greedy' | 'coarse'): PlanForLoop => {
        const p = plan({ pipeline: spec, hardware, profiles, trace: planTrace, workload: 'w', planner, options: { seed: 1, maxReplicasPerStage: 64 } });
        return { stages: p.stages, envelope: p.envelope, plannedRateQps: p.workload.meanRateQps, slack: p.slack, scaling: p.scaling };
      };
      planned = mk('greedy');
      coarse = mk('coarse');
    });

    const run = (controller: ControllerKind, seed = 1) => runClosedLoop({
      pipeline: spec, hardware, profiles, plan: planned, coarsePlan: coarse, trace, seed, controller, maxReplicasPerStage: 64,
    }).result;

    it('InferLine keeps the SLO miss rate ≤ 1 % through the step, far below HPA and Ray, cheaper than static peak', () => {
      const inferline = run('inferline');
      const hpa = run('hpa');
      const ray = run('ray');
      const peak = run('static-peak');
      expect(inferline.sloMissRate).to.be.at.most(0.01);
      expect(hpa.sloMissRate).to.be.above(10 * inferline.sloMissRate);
      expect(ray.sloMissRate).to.be.above(10 * inferline.sloMissRate);
      expect(inferline.meanCostPerHour).to.be.below(peak.meanCostPerHour);
      expect(inferline.scalingActions).to.be.above(0);
    });

    it('along the plan\'s scaling curve it costs less than scaling every stage in proportion, within the SLO', () => {
      const curve = run('inferline');
      const proportional = runClosedLoop({
        pipeline: spec, hardware, profiles, plan: { ...planned, scaling: [] }, trace, seed: 1, controller: 'inferline', maxReplicasPerStage: 64,
      }).result;
      expect(curve.sloMissRate).to.be.at.most(0.01);
      expect(curve.meanCostPerHour).to.be.below(0.9 * proportional.meanCostPerHour);
    });

    it('static provisioning never scales; static-peak provisions for the peak, static-mean for the mean', () => {
      const mean = run('static-mean');
      const peak = run('static-peak');
      expect(mean.scalingActions).to.equal(0);
      expect(peak.scalingActions).to.equal(0);
      const detect = (r: typeof mean) => r.timeline[0]?.replicas['detect'] as number;
      expect(detect(peak)).to.be.above(detect(mean));
      // Peak provisioning holds the step; the mean does not.
      expect(peak.sloMissRate).to.be.at.most(0.01);
      expect(mean.sloMissRate).to.be.above(0.05);
    });

    it('the static baselines provision by the tuner\'s own rule: for the whole trace\'s envelope, or a steady stream at its mean', () => {
      const flat = staticEnvelope('static-mean', trace, planned);
      expect(flat.map((p) => p.windowMs)).to.deep.equal(planned.envelope.map((p) => p.windowMs));
      for (const p of flat) expect(p.rateQps).to.equal(meanRate(trace));
      const whole = staticEnvelope('static-peak', trace, planned);
      expect(whole[0]?.rateQps).to.be.above(whole.at(-1)?.rateQps as number);
      expect(whole.at(-1)?.rateQps).to.be.above(meanRate(trace));
    });

    it('without the backlog term, InferLine never holds more replicas than static peak at any stage and time', () => {
      // The live envelope covers part of the trace, so it never exceeds the whole trace's, and the
      // tuner's need grows with it: what it holds is at most what static peak holds all along.
      const inferline = runClosedLoop({
        pipeline: spec, hardware, profiles, plan: planned, trace, seed: 1, controller: 'inferline', maxReplicasPerStage: 64, tuner: { drainTimeMs: 0 },
      }).result;
      const peak = run('static-peak').timeline[0]?.replicas as Record<string, number>;
      let above = 0;
      for (const p of inferline.timeline) for (const [s, v] of Object.entries(p.replicas)) if (v > (peak[s] as number)) above++;
      expect(above).to.equal(0);
      expect(inferline.scalingActions).to.be.above(0);
    });

    it('the coarse baseline scales every stage as one unit', () => {
      const r = run('coarse');
      for (const p of r.timeline) expect(new Set(Object.values(p.replicas)).size).to.equal(1);
    });

    it('the batch-aware mode (off by default) trades replicas for larger batches at an equal tail, for less', () => {
      const plain = run('inferline');
      const { result, controller } = runClosedLoop({
        pipeline: spec, hardware, profiles, plan: planned, trace, seed: 1, controller: 'inferline', maxReplicasPerStage: 64,
        batchAware: { intervalMs: 15_000, windowMs: 30_000 },
      });
      expect((controller as unknown as { batchChanges: unknown[] }).batchChanges.length).to.be.above(0);
      expect(result.meanCostPerHour).to.be.below(plain.meanCostPerHour);
      expect(result.sloMissRate).to.be.at.most(0.01);
    });

    it('the batch-aware mode makes no change the tuner would undo at once', () => {
      const { controller } = runClosedLoop({
        pipeline: spec, hardware, profiles, plan: planned, trace, seed: 1, controller: 'inferline', maxReplicasPerStage: 64,
        batchAware: { intervalMs: 15_000, windowMs: 30_000 },
      });
      const c = controller as unknown as TunerController;
      expect(c.batchChanges.length).to.be.above(0);
      for (const b of c.batchChanges) {
        // The next tick (250 ms on) does not scale the changed stage back up.
        const next = c.decisions.find((d) => d.tMs > b.tMs && d.tMs <= b.tMs + 250);
        const up = next?.decision.kind === 'scale' ? next.decision.changes.find((ch) => ch.stage === b.proposal.stage && ch.to > ch.from) : undefined;
        expect(up, JSON.stringify({ b, next })).to.equal(undefined);
      }
    });

    it('the same seed gives the same result', () => {
      const a = run('inferline', 3);
      const b = run('inferline', 3);
      expect(JSON.stringify(a)).to.equal(JSON.stringify(b));
    });

    it('replicas stay within [min, max] for every controller', () => {
      for (const k of ['inferline', 'hpa', 'ray', 'coarse'] as const) {
        const r = run(k);
        for (const p of r.timeline) for (const v of Object.values(p.replicas)) expect(v, k).to.be.within(1, 64);
      }
    });
  });
});
