// deploy/Dockerfile is not built here (no container engine on these machines): these checks read
// it, and check that what it copies exists, is not excluded from the build context, and is what
// the runtime needs (the build's output is the package's bin).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { REPO_ROOT } from './k8s.js';
import { AGENT_NODE_FLAGS } from '../../src/cli/agent-node-flags.js';

interface Instruction { readonly op: string; readonly args: string; readonly stage: number }

/** The instructions, continuation lines joined, comments dropped, each with its stage index. */
function instructions(text: string): Instruction[] {
  const joined = text.split('\n').filter((l) => !/^\s*#/.test(l)).join('\n').replace(/\\\n/g, ' ');
  let stage = -1;
  return joined.split('\n').filter((l) => l.trim() !== '').map((line) => {
    const [op = '', ...rest] = line.trim().split(/\s+/);
    if (op.toUpperCase() === 'FROM') stage++;
    return { op: op.toUpperCase(), args: rest.join(' '), stage };
  });
}

const dockerfile = readFileSync(path.join(REPO_ROOT, 'deploy/Dockerfile'), 'utf8');
const steps = instructions(dockerfile);
const ignored = readFileSync(path.join(REPO_ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));

describe('deploy/Dockerfile', () => {
  it('builds in one Node 20 slim stage and runs in another', () => {
    const froms = steps.filter((s) => s.op === 'FROM');
    expect(froms).to.have.length(2);
    for (const from of froms) expect(from.args).to.match(/^node:20(\.\d+)*-[a-z]+-slim AS (build|runtime)$/);
    expect(steps.filter((s) => s.op === 'RUN' && s.stage === 0).map((s) => s.args).join('\n')).to.match(/npm ci[^\n]*\n.*npm run build/s);
    const runtimeRuns = steps.filter((s) => s.op === 'RUN' && s.stage === 1).map((s) => s.args).join('\n');
    expect(runtimeRuns).to.contain('npm ci --omit=dev');
    expect(runtimeRuns).to.not.match(/npm run build|npm install/);
    expect(steps.some((s) => s.op === 'COPY' && s.stage === 1 && s.args === '--from=build /app/dist ./dist')).to.equal(true);
  });

  it('runs as a non-root user, with a health check on the agent API', () => {
    const user = steps.filter((s) => s.op === 'USER' && s.stage === 1).pop();
    expect(user?.args).to.match(/^[1-9]\d*(:\d+)?$|^(?!root)[a-z][a-z0-9-]*$/);
    const health = steps.find((s) => s.op === 'HEALTHCHECK');
    expect(health?.args).to.contain('http://127.0.0.1:8470/healthz');
    expect(steps.find((s) => s.op === 'EXPOSE')?.args.split(' ')).to.deep.equal(['8470', '9464']);
  });

  it('starts `node AGENT_NODE_FLAGS dist/src/cli/main.js agent --config /etc/inferline/config.yaml`, the package\'s bin', () => {
    const entrypoint = JSON.parse(steps.find((s) => s.op === 'ENTRYPOINT')?.args ?? '[]') as string[];
    const cmd = JSON.parse(steps.find((s) => s.op === 'CMD')?.args ?? '[]') as string[];
    expect([...entrypoint, ...cmd]).to.deep.equal(['node', ...AGENT_NODE_FLAGS, 'dist/src/cli/main.js', 'agent', '--config', '/etc/inferline/config.yaml']);
    const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string>; scripts: Record<string, string> };
    expect(pkg.bin.inferline).to.equal(entrypoint[1 + AGENT_NODE_FLAGS.length]);
    expect(pkg.scripts.build).to.match(/^tsc -p tsconfig\.build\.json(?: && |$)/);
    // The KEDA scaler loads its proto at run time from beside the compiled module: the build ships it into dist/.
    expect(pkg.scripts.build).to.include("cpSync('src/runtime/scaling/externalscaler.proto', 'dist/src/runtime/scaling/externalscaler.proto')");
    expect(existsSync(path.join(REPO_ROOT, 'src/runtime/scaling/externalscaler.proto'))).to.equal(true);
    // tsconfig.build.json compiles src/ and adapters/ into dist/, so src/cli/main.ts lands there.
    const build = JSON.parse(readFileSync(path.join(REPO_ROOT, 'tsconfig.build.json'), 'utf8')) as { include: string[]; compilerOptions: { outDir: string } };
    expect(build.compilerOptions.outDir).to.equal('dist');
    expect(build.include).to.include.members(['src', 'adapters']);
    expect(existsSync(path.join(REPO_ROOT, 'src/cli/main.ts'))).to.equal(true);
  });

  it('copies only files that exist and that .dockerignore leaves in the context', () => {
    const sources = steps.filter((s) => s.op === 'COPY' && !s.args.startsWith('--from='))
      .flatMap((s) => s.args.split(/\s+/).slice(0, -1));
    expect(sources).to.include.members(['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'src', 'adapters', 'config']);
    for (const source of sources) {
      expect(existsSync(path.join(REPO_ROOT, source)), source).to.equal(true);
      expect(ignored.filter((pattern) => source === pattern || source.startsWith(`${pattern}/`)), `${source} is ignored`).to.deep.equal([]);
    }
    // Every folder the compiled program reads at run time is there: the demo's config.
    expect(existsSync(path.join(REPO_ROOT, 'config/examples/reference.yaml'))).to.equal(true);
    expect(ignored).to.include.members(['node_modules', 'dist', '.git']);
  });
});
