// deploy/systemd: the unit runs the agent as its own user, restarts it on failure, stops it with
// SIGTERM (it releases its lease) within a deadline, reloads it with SIGHUP, and is hardened; the
// example env file's overrides apply to a real config. `systemd-analyze verify` checks the unit
// where systemd is installed.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, copyFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { parseConfig } from '../../src/config/index.js';
import { KUBE_DIR, REPO_ROOT } from './k8s.js';
import { AGENT_NODE_FLAGS } from '../../src/cli/agent-node-flags.js';

const UNIT = path.join(REPO_ROOT, 'deploy/systemd/inferline-agent.service');
const ENV_FILE = path.join(REPO_ROOT, 'deploy/systemd/inferline-agent.env');

/** section → key → every value given (systemd keys may repeat). */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header !== null) {
      current = new Map();
      sections.set(header[1] as string, current);
      continue;
    }
    const eq = line.indexOf('=');
    if (current === undefined || eq < 0) throw new Error(`not a unit line: ${line}`);
    const key = line.slice(0, eq);
    current.set(key, [...(current.get(key) ?? []), line.slice(eq + 1)]);
  }
  return sections;
}

/** KEY=value lines of an EnvironmentFile. */
function parseEnvFile(text: string): Record<string, string> {
  return Object.fromEntries(text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

describe('deploy/systemd', () => {
  const unit = parseUnit(readFileSync(UNIT, 'utf8'));
  const service = unit.get('Service') ?? new Map<string, string[]>();
  const one = (key: string): string | undefined => service.get(key)?.at(-1);

  it('runs the agent as a dedicated user and restarts it on failure', () => {
    expect(one('User')).to.equal('inferline');
    expect(one('Group')).to.equal('inferline');
    expect(one('ExecStart')).to.contain('agent --config /etc/inferline/config.yaml');
    // Launched with the agent's Node flags, before any the env file adds.
    expect(one('ExecStart')).to.contain(`NODE_OPTIONS="${AGENT_NODE_FLAGS.join(' ')} $NODE_OPTIONS" exec "$INFERLINE_BIN" agent`);
    expect(one('ExecStartPre')).to.contain('validate --config /etc/inferline/config.yaml');
    expect(one('Restart')).to.equal('on-failure');
    expect(one('RestartPreventExitStatus'), 'a bad config (exit 2) is not retried').to.equal('2');
    expect(unit.get('Unit')?.get('StartLimitBurst')).to.not.equal(undefined);
    expect(unit.get('Install')?.get('WantedBy')).to.deep.equal(['multi-user.target']);
  });

  it('stops with SIGTERM within a deadline and reloads with SIGHUP', () => {
    expect(one('KillSignal')).to.equal('SIGTERM');
    expect(one('TimeoutStopSec')).to.match(/^\d+s$/);
    expect(one('ExecReload')).to.equal('/bin/kill -HUP $MAINPID');
  });

  it('is hardened', () => {
    for (const [key, value] of Object.entries({
      NoNewPrivileges: 'yes', ProtectSystem: 'strict', ProtectHome: 'yes', PrivateTmp: 'yes', PrivateDevices: 'yes',
      ProtectKernelTunables: 'yes', ProtectKernelModules: 'yes', ProtectControlGroups: 'yes', RestrictSUIDSGID: 'yes',
      LockPersonality: 'yes', CapabilityBoundingSet: '', RestrictAddressFamilies: 'AF_INET AF_INET6 AF_UNIX',
    })) {
      expect(one(key), key).to.equal(value);
    }
  });

  it('has an env file whose overrides apply to a real agent config', () => {
    const unitEnvFile = one('EnvironmentFile');
    expect(unitEnvFile).to.equal('/etc/inferline/agent.env');
    const env = parseEnvFile(readFileSync(ENV_FILE, 'utf8'));
    expect(Object.keys(env)).to.include.members(['INFERLINE_AGENT__ID', 'INFERLINE_AGENT__API__TOKEN', 'INFERLINE_AGENT__MODE']);
    // The Triton overlay's config stands for the host's /etc/inferline/config.yaml.
    const text = readFileSync(path.join(KUBE_DIR, 'overlays/triton/inferline.yaml'), 'utf8');
    const config = parseConfig(text, '/etc/inferline/config.yaml', env);
    expect(config.agent?.id).to.equal(env.INFERLINE_AGENT__ID);
    expect(config.agent?.api.token).to.equal(env.INFERLINE_AGENT__API__TOKEN);
    expect(config.agent?.mode).to.equal('recommend');
    // and the switch the README describes:
    expect(parseConfig(text, 'config.yaml', { ...env, INFERLINE_AGENT__MODE: 'enforce' }).agent?.mode).to.equal('enforce');
  });

  it('passes systemd-analyze verify', function () {
    const probe = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
    if (probe.error !== undefined) {
      console.log(`      skipped: systemd-analyze not found (${probe.error.message})`);
      this.skip();
    }
    const dir = mkdtempSync(path.join(os.tmpdir(), 'inferline-unit-'));
    try {
      const copy = path.join(dir, 'inferline-agent.service');
      copyFileSync(UNIT, copy);
      const run = spawnSync('systemd-analyze', ['verify', '--man=no', copy], { encoding: 'utf8' });
      // Only what concerns our file: verify also reports on unrelated units of the host.
      const ours = `${run.stdout}${run.stderr}`.split('\n').filter((l) => l.includes('inferline-agent.service'));
      expect(ours, ours.join('\n')).to.deep.equal([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
