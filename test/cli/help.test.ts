import { expect } from 'chai';
import { runCli } from '../helpers/cli.js';

describe('inferline --help', () => {
  for (const args of [['--help'], ['plan', '--help'], ['validate', '--help'], ['demo', '--help'], ['simulate', '--help'], ['emulate', '--help']]) {
    it(`${args.join(' ')} prints usage and exits 0`, async () => {
      const r = await runCli(args);
      expect(r.code).to.equal(0);
      expect(r.stdout).to.match(/^Usage: inferline/);
    });
  }

  it('an unknown command or option is bad input (exit 2)', async () => {
    expect((await runCli(['nope'])).code).to.equal(2);
    expect((await runCli(['plan', '--config', 'x', '--frobnicate'])).code).to.equal(2);
  });
});
