import { expect } from 'chai';
import { edited, load, problemsOf, type Loose } from './fixtures.js';

interface Case {
  name: string;
  given: (c: Loose) => void;
  env?: NodeJS.ProcessEnv;
  want: { path: string; message: RegExp };
}

const withCoordination = (coordination: Loose) => (c: Loose): void => { c.coordination = coordination; };

describe('config: coordination section', function () {
  it('defaults to the memory backend with client-go\'s timing', function () {
    const config = load(edited(() => undefined));
    expect(config.coordination).to.deep.equal({
      backend: 'memory',
      timing: { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 },
      memberTtlMs: 10_000,
      memory: {},
      etcd: { endpoints: ['http://127.0.0.1:2379'], prefix: '/inferline/', requestTimeoutMs: 5_000 },
      kubernetes: { namespace: 'default', leaseName: 'inferline-leader', configMapName: 'inferline-desired-state', memberLeasePrefix: 'inferline-member-' },
    });
  });

  it('reads an etcd section: any host, durations as strings, TLS paths relative to the config file', function () {
    const config = load(edited(withCoordination({
      backend: 'etcd',
      leaseDuration: '6s', renewDeadline: '4s', retryPeriod: '1s', memberTtl: '5s',
      etcd: { endpoints: ['https://etcd-0.etcd:2379', 'https://10.0.0.12:2379'], prefix: '/prod/inferline/', tls: { ca: 'tls/ca.pem', cert: '/etc/etcd/client.pem', key: '/etc/etcd/client-key.pem' } },
    })));
    expect(config.coordination.backend).to.equal('etcd');
    expect(config.coordination.timing).to.deep.equal({ leaseDurationMs: 6000, renewDeadlineMs: 4000, retryPeriodMs: 1000 });
    expect(config.coordination.memberTtlMs).to.equal(5000);
    expect(config.coordination.etcd).to.deep.equal({
      endpoints: ['https://etcd-0.etcd:2379', 'https://10.0.0.12:2379'],
      prefix: '/prod/inferline/',
      requestTimeoutMs: 5000,
      tls: { caFile: '/configs/tls/ca.pem', certFile: '/etc/etcd/client.pem', keyFile: '/etc/etcd/client-key.pem' },
    });
  });

  it('reads a kubernetes section', function () {
    const config = load(edited(withCoordination({ backend: 'kubernetes', kubernetes: { namespace: 'serving', leaseName: 'fleet-a', kubeconfig: './kube.yaml' } })));
    expect(config.coordination.kubernetes).to.deep.equal({
      namespace: 'serving', leaseName: 'fleet-a', configMapName: 'inferline-desired-state', memberLeasePrefix: 'inferline-member-', kubeconfig: '/configs/kube.yaml',
    });
  });

  it('takes environment overrides like any setting', function () {
    const config = load(edited(() => undefined), {}, { INFERLINE_COORDINATION__BACKEND: 'kubernetes', INFERLINE_COORDINATION__KUBERNETES__NAMESPACE: 'ml' });
    expect(config.coordination.backend).to.equal('kubernetes');
    expect(config.coordination.kubernetes.namespace).to.equal('ml');
  });

  it('reads the hub of another process for the memory backend (the demo serves one to its agents)', function () {
    const config = load(edited(withCoordination({ backend: 'memory', memory: { hubUrl: 'http://127.0.0.1:41234' } })));
    expect(config.coordination.memory).to.deep.equal({ hubUrl: 'http://127.0.0.1:41234' });
  });

  const cases: Case[] = [
    {
      name: 'a hub that is not on loopback',
      given: withCoordination({ memory: { hubUrl: 'http://10.0.0.5:41234' } }),
      want: { path: 'coordination.memory.hubUrl', message: /loopback/ },
    },
    {
      name: 'a hub URL with a path',
      given: withCoordination({ memory: { hubUrl: 'http://127.0.0.1:41234/hub' } }),
      want: { path: 'coordination.memory.hubUrl', message: /no path/ },
    },
    {
      name: 'unknown backend',
      given: withCoordination({ backend: 'zookeeper' }),
      want: { path: 'coordination.backend', message: /^"zookeeper" — must be one of: "memory", "etcd", "kubernetes"$/ },
    },
    {
      name: 'unknown backend, from the environment',
      given: () => undefined,
      env: { INFERLINE_COORDINATION__BACKEND: 'consul' },
      want: { path: 'coordination.backend', message: /^"consul" — must be one of: .* \(set by INFERLINE_COORDINATION__BACKEND\)$/ },
    },
    {
      name: 'an endpoint without a port',
      given: withCoordination({ backend: 'etcd', etcd: { endpoints: ['http://127.0.0.1:2379', 'http://etcd-1'] } }),
      want: { path: 'coordination.etcd.endpoints[1]', message: /^"http:\/\/etcd-1" — must be an etcd endpoint: http\(s\):\/\/host:port/ },
    },
    {
      name: 'an endpoint that is not a URL',
      given: withCoordination({ backend: 'etcd', etcd: { endpoints: ['127.0.0.1:2379'] } }),
      want: { path: 'coordination.etcd.endpoints[0]', message: /must be an etcd endpoint/ },
    },
    {
      name: 'an endpoint with another scheme or a path',
      given: withCoordination({ backend: 'etcd', etcd: { endpoints: ['unix:///run/etcd.sock', 'http://h:2379/v3'] } }),
      want: { path: 'coordination.etcd.endpoints[1]', message: /must be an etcd endpoint/ },
    },
    {
      name: 'no endpoints',
      given: withCoordination({ backend: 'etcd', etcd: { endpoints: [] } }),
      want: { path: 'coordination.etcd.endpoints', message: /must have at least 1 item/ },
    },
    {
      name: 'mixed http and https endpoints',
      given: withCoordination({ backend: 'etcd', etcd: { endpoints: ['http://a:2379', 'https://b:2379'] } }),
      want: { path: 'coordination.etcd.endpoints', message: /must all be http:\/\/ or all https:\/\// },
    },
    {
      name: 'TLS with http endpoints',
      given: withCoordination({ backend: 'etcd', etcd: { endpoints: ['http://a:2379'], tls: { ca: 'ca.pem' } } }),
      want: { path: 'coordination.etcd.endpoints', message: /must be https:\/\/ when coordination.etcd.tls is set/ },
    },
    {
      name: 'a client cert without its key',
      given: withCoordination({ backend: 'etcd', etcd: { endpoints: ['https://a:2379'], tls: { cert: 'c.pem' } } }),
      want: { path: 'coordination.etcd.tls.key', message: /cert and key go together/ },
    },
    {
      name: 'a bad duration',
      given: withCoordination({ leaseDuration: 'forever' }),
      want: { path: 'coordination.leaseDuration', message: /^"forever" — must be a duration such as/ },
    },
    {
      name: 'leaseDuration not above renewDeadline',
      given: withCoordination({ leaseDuration: '10s', renewDeadline: '10s' }),
      want: { path: 'coordination.leaseDuration', message: /^10000ms — must be greater than renewDeadline \(10000ms\)$/ },
    },
    {
      name: 'renewDeadline not above 1.2 × retryPeriod',
      given: withCoordination({ renewDeadline: '2s', retryPeriod: '2s' }),
      want: { path: 'coordination.renewDeadline', message: /^2000ms — must be greater than 1.2 × retryPeriod \(2400ms\)$/ },
    },
    {
      name: 'a zero TTL',
      given: withCoordination({ memberTtl: 0 }),
      want: { path: 'coordination.memberTtl', message: /^0 — must be > 0$/ },
    },
    {
      name: 'a Lease name Kubernetes would refuse',
      given: withCoordination({ backend: 'kubernetes', kubernetes: { leaseName: 'Inferline_Leader' } }),
      want: { path: 'coordination.kubernetes.leaseName', message: /must be a Lease name: lowercase letters/ },
    },
    {
      name: 'an unknown key in the etcd section (a typo)',
      given: withCoordination({ backend: 'etcd', etcd: { endpoint: 'http://a:2379' } }),
      want: { path: 'coordination.etcd.endpoint', message: /^unknown key — must be one of: endpoints, prefix, requestTimeout, tls$/ },
    },
  ];
  for (const { name, given, env, want } of cases) {
    it(`bad input: ${name}`, function () {
      const problems = problemsOf(edited(given), {}, env);
      const hit = problems.find((p) => p.path === want.path && want.message.test(p.message));
      expect(hit, `problems were:\n${problems.map((p) => `${p.path}: ${p.message}`).join('\n')}`).to.not.equal(undefined);
    });
  }

  it('reports both timing rules at once', function () {
    const problems = problemsOf(edited(withCoordination({ leaseDuration: '1s', renewDeadline: '2s', retryPeriod: '2s' })));
    expect(problems.map((p) => p.path)).to.deep.equal(['coordination.leaseDuration', 'coordination.renewDeadline']);
  });
});
