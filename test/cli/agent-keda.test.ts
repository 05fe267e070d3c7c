// `inferline agent` with placement.externalScaler: the composition root starts KEDA's external
// scaler beside the agent, it answers a client built from externalscaler.proto with the leader's
// figures, and SIGTERM stops it with the agent.
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { EventEmitter } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { runAgent } from '../../src/cli/commands/agent.js';
import { normaliseProfiles } from '../../src/core/model/profiles.js';
import { startTritonEmulator } from '../../src/emulator/index.js';
import { kedaClient, ref } from '../runtime/scaling/keda-client.js';

const PROFILES = [{ model: 'm', hardware: 'cpu', points: [{ batchSize: 1, latencyMs: 2 }, { batchSize: 4, latencyMs: 4 }] }];

describe('inferline agent with the KEDA external scaler', function () {
  this.timeout(30_000);
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'inferline-agent-keda-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('serves the leader\'s desired replicas per stage over gRPC until SIGTERM', async () => {
    const { profiles } = normaliseProfiles(PROFILES, () => 'p');
    const server = await startTritonEmulator({ profiles, port: 0, metricsPort: 0 });
    try {
      const config = join(dir, 'agent.json');
      writeFileSync(config, JSON.stringify({
        hardware: [{ name: 'cpu', costPerHour: 0.2 }],
        profiles: PROFILES,
        pipelines: [{ name: 'p', slo: { latencyMs: 100 }, stages: [{ name: 's', model: 'm', hardware: ['cpu'] }] }],
        telemetry: { prometheus: { enabled: false } },
        placement: { workloads: [{ pipeline: 'p', stage: 's', name: 'triton-s', replicasPerPod: 2 }], externalScaler: { enabled: true, port: 0 } },
        agent: { id: 'a1', hardware: 'cpu', server: { kind: 'triton', url: server.url, metricsUrl: server.metricsUrl }, api: { port: 0, token: 'cli-test-token-0123456789' } },
      }));
      const signals = new EventEmitter();
      let err = '';
      const run = runAgent({ config }, { output: { out: () => undefined, err: (s) => { err += s; } }, exitCode: 0 }, signals);
      let address = '';
      for (let i = 0; i < 200 && address === ''; i++) {
        address = /KEDA external scaler listening on (127\.0\.0\.1:\d+)/.exec(err)?.[1] ?? '';
        if (address === '') await new Promise((ok) => setTimeout(ok, 50));
      }
      expect(address, `the scaler did not start:\n${err}`).to.not.equal('');
      const client = kedaClient(address);
      try {
        const stage = ref({ scalerAddress: address, workload: 'triton-s' });
        expect((await client.getMetricSpec(stage)).metricSpecs).to.deep.equal([{ metricName: 'inferline-p-s', targetSize: 2, targetSizeFloat: 2 }]);
        let value: number | undefined;
        for (let i = 0; i < 100 && value === undefined; i++) {
          value = await client.getMetrics(stage, 's0-inferline-p-s').then((r) => r.metricValues[0]?.metricValueFloat, () => undefined);
          if (value === undefined) await new Promise((ok) => setTimeout(ok, 50));
        }
        expect(value, 'the leader\'s planned replicas of p/s').to.be.a('number').and.to.be.at.least(1);
        expect((await client.isActive(stage)).result).to.equal(true);
      } finally {
        client.close();
      }
      signals.emit('SIGTERM');
      await run;
      expect(err).to.match(/agent a1 stopped/);
      const after = kedaClient(address);
      try {
        const e = await after.isActive(ref({ workload: 'triton-s' })).then(() => undefined, (x: grpc.ServiceError) => x);
        expect(e?.code).to.equal(grpc.status.UNAVAILABLE);
        expect(e?.details, 'nothing listens any more').to.match(/ECONNREFUSED|No connection established/);
      } finally {
        after.close();
      }
    } finally {
      await server.stop();
    }
  });
});
