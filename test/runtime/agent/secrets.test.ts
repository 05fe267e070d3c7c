import { expect } from 'chai';
import { configDiff } from '../../../src/runtime/agent/config-diff.js';
import { ConfigError, parseConfig } from '../../../src/config/index.js';
import { isSecretPath } from '../../../src/config/secrets.js';
import { agentCredential, credentialMatches } from '../../../src/runtime/agent/credential.js';
import { fleetConfigText } from './fleet-fixture.js';

const OLD = 'old-secret-token-aaaaaaaaaaaa';
const NEW = 'new-secret-token-bbbbbbbbbbbb';

function agentSection(token: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id: 'a', hardware: 'cpu', server: { kind: 'triton', url: 'http://127.0.0.1:1' }, api: { port: 0, token }, ...extra };
}

describe('secrets never leave: config diffs and config errors', () => {
  it('a changed token shows as <redacted, changed> in the reload diff; other settings show their values', () => {
    const a = parseConfig(fleetConfigText(agentSection(OLD)), '/x.json');
    const b = parseConfig(fleetConfigText(agentSection(NEW), { pipelines: JSON.parse(fleetConfigText(agentSection(NEW))).pipelines.map((p: { slo: unknown }) => ({ ...p, slo: { latencyMs: 90 } })) }), '/x.json');
    const diff = configDiff(a, b);
    expect(diff).to.include('agent.api.token: <redacted, changed>');
    expect(diff.join('\n')).to.include('pipelines[0].slo.latencyMs: 150 → 90');
    expect(diff.join('\n')).to.not.include(OLD);
    expect(diff.join('\n')).to.not.include(NEW);
  });

  it('the Triton header value, the TorchServe key and OTLP headers are redacted too', () => {
    const diff = configDiff(
      { agent: { server: { header: { name: 'x-h', value: 'hv-one' }, token: 'ts-one' } }, telemetry: { otlp: { headers: { authorization: 'Basic one' } } } },
      { agent: { server: { header: { name: 'x-h', value: 'hv-two' }, token: 'ts-two' } }, telemetry: { otlp: { headers: { authorization: 'Basic two' } } } },
    );
    expect(diff).to.have.length(3);
    for (const line of diff) expect(line).to.match(/<redacted, changed>$/);
    expect(diff.join('\n')).to.not.match(/one|two/);
  });

  it('a token shorter than 16 characters is rejected without echoing it', () => {
    const short = 'tooShortTok';
    let err: unknown;
    try {
      parseConfig(fleetConfigText(agentSection(short)), '/x.json');
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(ConfigError);
    const text = `${(err as ConfigError).message}\n${(err as ConfigError).problems.map((p) => `${p.path} ${p.message}`).join('\n')}`;
    expect(text).to.include('agent.api.token');
    expect(text).to.include('at least 16 characters');
    expect(text).to.not.include(short);
  });

  const paths: { given: string[]; want: boolean }[] = [
    { given: ['agent', 'api', 'token'], want: true },
    { given: ['agent', 'api', 'port'], want: false },
    { given: ['telemetry', 'otlp', 'headers', 'x-api'], want: true },
    { given: ['coordination', 'kubernetes', 'password'], want: true },
    { given: ['pipelines', '0', 'slo'], want: false },
  ];
  for (const p of paths) it(`${p.given.join('.')} is ${p.want ? '' : 'not '}a secret`, () => expect(isSecretPath(p.given)).to.equal(p.want));
});

describe('per-agent credentials', () => {
  it('the credential is bound to the agent id and to the fleet token', () => {
    const c = agentCredential(OLD, 'agent-a');
    expect(credentialMatches(OLD, 'agent-a', c)).to.equal(true);
    expect(credentialMatches(OLD, 'agent-b', c)).to.equal(false);
    expect(credentialMatches(NEW, 'agent-a', c)).to.equal(false);
    expect(credentialMatches(OLD, 'agent-a', undefined)).to.equal(false);
    expect(credentialMatches(OLD, 'agent-a', `${c}x`)).to.equal(false);
    expect(c).to.not.include(OLD);
  });
});
