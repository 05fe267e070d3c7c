// docs/cli.md and the CLI agree: every command has a row, every option a row names exists on its
// command, and every option of a command (but --help) is named in its row.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { buildProgram } from '../../src/cli/program.js';

const DOC = new URL('../../docs/cli.md', import.meta.url);

/** Each row of the options table: the command's name and every --flag the row names. */
export function documentedFlags(markdown: string): Map<string, Set<string>> {
  const rows = new Map<string, Set<string>>();
  for (const line of markdown.split('\n')) {
    const m = /^\| `inferline ([a-z]+)[^`]*` \|(.*)\|\s*$/.exec(line);
    if (!m) continue;
    const flags = new Set([...line.matchAll(/--[a-z][a-z0-9-]*/g)].map((f) => f[0]));
    rows.set(m[1] as string, flags);
  }
  return rows;
}

describe('docs: CLI reference', () => {
  const program = buildProgram({ output: { out: () => undefined, err: () => undefined }, exitCode: 0 });
  const commands = new Map(program.commands.map((c) => [c.name(), new Set(c.options.map((o) => o.long).filter((l): l is string => l !== undefined))]));
  const documented = documentedFlags(readFileSync(DOC, 'utf8'));

  it('reads the rows of a table (the check can fail)', () => {
    const rows = documentedFlags('| command | options |\n| `inferline plan --config FILE` | `--json`, `--seed N` |\n');
    expect([...rows]).to.deep.equal([['plan', new Set(['--config', '--json', '--seed'])]]);
  });

  it('documents every command', () => {
    expect([...documented.keys()].sort()).to.deep.equal([...commands.keys()].sort());
  });

  for (const [name, options] of commands) {
    it(`inferline ${name}: the options documented are the options it has`, () => {
      const doc = documented.get(name) ?? new Set<string>();
      const missing = [...options].filter((o) => !doc.has(o));
      const unknown = [...doc].filter((o) => !options.has(o));
      expect({ missing, unknown }, `docs/cli.md row of inferline ${name}`).to.deep.equal({ missing: [], unknown: [] });
    });
  }
});
