import { expect } from 'chai';
import { decideReconcile, initialReconcileState, DEFAULT_RECONCILE_POLICY } from '../../../src/core/reconcile/index.js';
import type { DesiredState, ReconcilePolicy } from '../../../src/core/reconcile/index.js';
import type { AdapterCapabilities, ModelStatus } from '../../../src/ports/server-adapter.js';

const live: AdapterCapabilities = { replicas: 'live', batching: 'reload', perBatchStats: true, profiling: true, warnings: [] };
const enforce: ReconcilePolicy = { ...DEFAULT_RECONCILE_POLICY, mode: 'enforce', minReplicas: 1, maxReplicas: 10, maxStepUp: 4, maxStepDown: 1, cooldownMs: 10_000, maxActionsPerMinute: 3 };
const m = (replicas: number, maxBatchSize = 4, batchDelayMs = 1): ModelStatus => ({ model: 'm', ready: true, replicas, device: 'cpu', maxBatchSize, batchDelayMs });
const want = (replicas: number, extra: Partial<DesiredState['models'][number]> = {}, epoch = 1): DesiredState => ({ epoch, models: [{ model: 'm', replicas, ...extra }] });

describe('core/reconcile', () => {
  const cases: { name: string; desired: DesiredState; observed: ModelStatus; caps?: AdapterCapabilities; policy?: ReconcilePolicy; want: { actions: string[]; recs?: RegExp[]; notes?: RegExp[] } }[] = [
    { name: 'nothing to do', desired: want(2), observed: m(2), want: { actions: [] } },
    { name: 'scale up by at most the step', desired: want(9), observed: m(2), want: { actions: ['replicas 2→6'] } },
    { name: 'scale down one at a time', desired: want(1), observed: m(3), want: { actions: ['replicas 3→2'] } },
    { name: 'never below the minimum, and says so', desired: want(0), observed: m(2), policy: { ...enforce, minReplicas: 2 }, want: { actions: [], notes: [/clamped to 2/] } },
    { name: 'clamped to the maximum', desired: want(40), observed: m(9), want: { actions: ['replicas 9→10'], notes: [/clamped to 10/] } },
    { name: 'mode recommend only recommends', desired: want(4), observed: m(2), policy: { ...enforce, mode: 'recommend' }, want: { actions: [], recs: [/mode is recommend/] } },
    {
      name: 'a change the server cannot make live is a recommendation naming why',
      desired: want(4), observed: m(2), caps: { ...live, replicas: 'restart', warnings: ['model control mode is not explicit'] },
      want: { actions: [], recs: [/by restart on this server, not live: model control mode is not explicit/] },
    },
    { name: 'batching change when the server can reload', desired: want(2, { maxBatchSize: 8, batchDelayMs: 2 }), observed: m(2), want: { actions: ['batching 8/2'] } },
    { name: 'batching held where it needs an orchestrator', desired: want(2, { maxBatchSize: 8 }), observed: m(2), caps: { ...live, batching: 'orchestrator' }, want: { actions: [], recs: [/batching changes by orchestrator/] } },
    { name: 'a model the server lacks is a note', desired: { epoch: 1, models: [{ model: 'x', replicas: 2 }] }, observed: m(2), want: { actions: [], notes: [/"x" is in the desired state but not on the server/] } },
  ];
  const show = (a: { kind: string; from?: number; to?: number; maxBatchSize?: number; batchDelayMs?: number }) => (a.kind === 'replicas' ? `replicas ${a.from}→${a.to}` : `batching ${a.maxBatchSize}/${a.batchDelayMs}`);
  for (const c of cases) {
    it(c.name, () => {
      const { decision } = decideReconcile({ nowMs: 100_000, desired: c.desired, observed: [c.observed], capabilities: c.caps ?? live, policy: c.policy ?? enforce }, initialReconcileState());
      expect(decision.actions.map(show)).to.deep.equal(c.want.actions);
      for (const r of c.want.recs ?? []) expect(decision.recommendations.map((x) => x.why).join(' | ')).to.match(r);
      for (const n of c.want.notes ?? []) expect(decision.notes.join(' | ')).to.match(n);
    });
  }

  it('cools down between scale-downs, but lets a scale-up through', () => {
    let state = initialReconcileState();
    let out = decideReconcile({ nowMs: 0, desired: want(1), observed: [m(3)], capabilities: live, policy: enforce }, state);
    expect(out.decision.actions).to.have.length(1);
    state = out.state;
    out = decideReconcile({ nowMs: 5_000, desired: want(1), observed: [m(2)], capabilities: live, policy: enforce }, state);
    expect(out.decision.actions).to.have.length(0);
    expect(out.decision.recommendations[0]?.why).to.match(/cooling down/);
    out = decideReconcile({ nowMs: 5_000, desired: want(5), observed: [m(2)], capabilities: live, policy: enforce }, state);
    expect(out.decision.actions.map(show)).to.deep.equal(['replicas 2→5']);
    out = decideReconcile({ nowMs: 10_000, desired: want(1), observed: [m(2)], capabilities: live, policy: enforce }, state);
    expect(out.decision.actions.map(show)).to.deep.equal(['replicas 2→1']);
  });

  it('limits actions per minute', () => {
    let state = initialReconcileState();
    const done: number[] = [];
    for (let t = 0; t < 60_000; t += 1000) {
      const out = decideReconcile({ nowMs: t, desired: want(t % 2000 === 0 ? 5 : 2, {}, 1), observed: [m(t % 2000 === 0 ? 2 : 5)], capabilities: live, policy: { ...enforce, cooldownMs: 0 } }, state);
      state = out.state;
      if (out.decision.actions.length > 0) done.push(t);
    }
    expect(done).to.deep.equal([0, 1000, 2000]);
  });

  it('ignores a desired state from an older epoch than one already seen', () => {
    const first = decideReconcile({ nowMs: 0, desired: want(3, {}, 5), observed: [m(2)], capabilities: live, policy: enforce }, initialReconcileState());
    const stale = decideReconcile({ nowMs: 1000, desired: want(9, {}, 4), observed: [m(3)], capabilities: live, policy: enforce }, first.state);
    expect(stale.decision.actions).to.deep.equal([]);
    expect(stale.decision.notes[0]).to.match(/epoch 4 is older than epoch 5: ignored/);
  });
});
