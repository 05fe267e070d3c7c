// The per-agent push credential (credential.ts) cannot be replayed as another agent id: it binds
// the exact id (no case folding, no Unicode normalisation, no trimming, no prefix or suffix games)
// and the fleet token it was made with. What it does NOT stop (docs/fleet-safety.md, threat model):
// replaying a captured push as the same id, which needs the bearer token anyway.
import { expect } from 'chai';
import { agentCredential, credentialMatches } from '../../../src/runtime/agent/credential.js';

const TOKEN = 'fleet-token-0123456789abcdef';

describe('runtime/agent/credential: no replay as another id', function () {
  const pairs: { name: string; issued: string; claimed: string }[] = [
    { name: 'another member', issued: 'agent-pre', claimed: 'agent-cls' },
    { name: 'case', issued: 'agent-pre', claimed: 'Agent-pre' },
    { name: 'a trailing space', issued: 'agent-pre', claimed: 'agent-pre ' },
    { name: 'a prefix of the id', issued: 'agent-pre', claimed: 'agent-pr' },
    { name: 'the id extended', issued: 'agent-pre', claimed: 'agent-pre-2' },
    { name: 'a NUL and more after the id', issued: 'agent-pre', claimed: 'agent-pre\u0000x' },
    { name: 'the domain separator moved into the id', issued: 'x', claimed: 'inferline-agent\u0000x' },
    { name: 'Unicode NFC against NFD', issued: 'agent-\u00e9', claimed: 'agent-e\u0301' },
    { name: 'the empty id', issued: 'agent-pre', claimed: '' },
  ];
  for (const p of pairs) {
    it(`a credential for "${p.issued}" is refused for ${p.name}`, function () {
      const c = agentCredential(TOKEN, p.issued);
      expect(credentialMatches(TOKEN, p.issued, c), 'it is the issued id\'s').to.equal(true);
      expect(credentialMatches(TOKEN, p.claimed, c)).to.equal(false);
    });
  }

  it('is bound to the fleet token: a credential made with an old token is refused after a rotation', function () {
    const old = agentCredential('old-fleet-token-0123456789', 'agent-pre');
    expect(credentialMatches(TOKEN, 'agent-pre', old)).to.equal(false);
  });

  const mangled: { name: string; given: (c: string) => string | undefined }[] = [
    { name: 'missing', given: () => undefined },
    { name: 'empty', given: () => '' },
    { name: 'truncated', given: (c) => c.slice(0, -1) },
    { name: 'padded', given: (c) => `${c}=` },
    { name: 'one character changed', given: (c) => `${c.slice(0, -1)}${c.endsWith('A') ? 'B' : 'A'}` },
    { name: 'the token itself', given: () => TOKEN },
    { name: 'hex instead of base64url', given: (c) => Buffer.from(c, 'base64url').toString('hex') },
  ];
  for (const m of mangled) {
    it(`a credential ${m.name} is refused`, function () {
      expect(credentialMatches(TOKEN, 'agent-pre', m.given(agentCredential(TOKEN, 'agent-pre')))).to.equal(false);
    });
  }
});
