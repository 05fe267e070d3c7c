// The placement section: the backend, the workloads of the stages (Kubernetes scaling) and the KEDA
// external scaler.
import { expect } from 'chai';
import { edited, load, problemsOf } from './fixtures.js';

const WORKLOAD = { pipeline: 'images', stage: 'classify', name: 'triton-classify' };

describe('config: placement (workloads, kubernetes-scale, KEDA external scaler)', () => {
  it('fills in a workload\'s defaults, its namespace from coordination.kubernetes', () => {
    const { placement } = load(edited((c) => {
      c.coordination = { kubernetes: { namespace: 'serving' } };
      c.placement = { backend: 'kubernetes-scale', workloads: [WORKLOAD], externalScaler: { enabled: true, host: '0.0.0.0' } };
    }));
    expect(placement.backend).to.equal('kubernetes-scale');
    expect(placement.workloads).to.deep.equal([{
      pipeline: 'images', stage: 'classify', kind: 'Deployment', name: 'triton-classify', namespace: 'serving', replicasPerPod: 1, minReplicas: 1, maxReplicas: 16,
    }]);
    expect(placement.externalScaler).to.deep.equal({ enabled: true, host: '0.0.0.0', port: 8471 });
  });

  const cases: { name: string; placement: unknown; want: { path: string; message: RegExp }[] }[] = [
    {
      name: 'a workload of a stage the config does not have',
      placement: { workloads: [{ ...WORKLOAD, stage: 'resise' }] },
      want: [{ path: 'placement.workloads[0].stage', message: /^"resise" — must be a stage of pipeline images \(resize, classify\)$/ }],
    },
    {
      name: 'a workload of an unknown pipeline',
      placement: { workloads: [{ ...WORKLOAD, pipeline: 'text' }] },
      want: [{ path: 'placement.workloads[0].pipeline', message: /^"text" — must be a pipeline of this config \(images\)$/ }],
    },
    {
      name: 'two workloads for one stage',
      placement: { workloads: [WORKLOAD, { ...WORKLOAD, name: 'other' }] },
      want: [{ path: 'placement.workloads[1].stage', message: /must have one workload \(also at placement\.workloads\[0\]\)/ }],
    },
    {
      name: 'one Deployment for two stages',
      placement: { workloads: [WORKLOAD, { ...WORKLOAD, stage: 'resize' }] },
      want: [{ path: 'placement.workloads[1].name', message: /^"triton-classify" — must run one stage \(Deployment\/default\/triton-classify is also at placement\.workloads\[0\]\)$/ }],
    },
    {
      name: 'bounds the wrong way round',
      placement: { workloads: [{ ...WORKLOAD, minReplicas: 5, maxReplicas: 2 }] },
      want: [{ path: 'placement.workloads[0].minReplicas', message: /^5 — must be ≤ maxReplicas \(2\)$/ }],
    },
    {
      name: 'kubernetes-scale with no workload',
      placement: { backend: 'kubernetes-scale' },
      want: [{ path: 'placement.workloads', message: /must name at least one workload when placement\.backend is kubernetes-scale/ }],
    },
    {
      name: 'a workload name Kubernetes would refuse, and an unknown kind',
      placement: { workloads: [{ ...WORKLOAD, name: 'Triton_Classify', kind: 'DaemonSet' }] },
      want: [
        { path: 'placement.workloads[0].kind', message: /Deployment.*StatefulSet/ },
        { path: 'placement.workloads[0].name', message: /must be a Deployment or StatefulSet name/ },
      ],
    },
    {
      name: 'an unknown backend',
      placement: { backend: 'keda' },
      want: [{ path: 'placement.backend', message: /command.*kubernetes-scale/ }],
    },
  ];
  for (const c of cases) {
    it(`refuses ${c.name}`, () => {
      const problems = problemsOf(edited((x) => { x.placement = c.placement; }));
      for (const w of c.want) {
        expect(problems.some((p) => p.path === w.path && w.message.test(p.message)), `${w.path} ${String(w.message)} in ${JSON.stringify(problems)}`).to.equal(true);
      }
    });
  }
});
