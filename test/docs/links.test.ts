// The docs stay true: every relative link in a Markdown file of the repository points at a file
// that exists, and every #anchor at a heading of the file it names (GitHub's heading slugs, with
// its -1, -2 suffixes for repeats). Links inside code fences and to other sites are not checked.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** GitHub's anchor for a heading's text. */
export function headingSlug(text: string): string {
  return text
    .trim()
    .toLowerCase()
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/[`*_]/g, '')
    .replace(/[^\p{L}\p{N}\- ]/gu, '')
    .replace(/ /g, '-');
}

/** Lines of a Markdown text outside code fences. */
function prose(text: string): string[] {
  const out: string[] = [];
  let fence = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('```')) fence = !fence;
    else if (!fence) out.push(line);
  }
  return out;
}

export function anchorsOf(text: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const line of prose(text)) {
    const m = /^#{1,6} (.*)$/.exec(line);
    if (!m) continue;
    const base = headingSlug(m[1] as string);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/** Every relative link of a Markdown text: [text](target), target without a scheme. */
export function relativeLinks(text: string): string[] {
  const links: string[] = [];
  for (const line of prose(text)) {
    // Inline code spans are not links.
    const bare = line.replace(/`[^`]*`/g, '');
    for (const m of bare.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1] as string;
      if (!/^[a-z][a-z0-9+.-]*:/i.test(target)) links.push(target);
    }
  }
  return links;
}

/** Each broken link of one file: "file: target (why)". */
export function brokenLinks(file: string, root = ROOT): string[] {
  const text = readFileSync(file, 'utf8');
  const broken: string[] = [];
  for (const target of relativeLinks(text)) {
    const [path = '', anchor] = target.split('#', 2);
    const dest = path === '' ? file : resolve(dirname(file), decodeURIComponent(path));
    const where = `${relative(root, file)}: ${target}`;
    if (!existsSync(dest)) {
      broken.push(`${where} (no such file)`);
      continue;
    }
    if (anchor !== undefined && anchor !== '' && dest.endsWith('.md') && statSync(dest).isFile() && !anchorsOf(readFileSync(dest, 'utf8')).has(anchor)) {
      broken.push(`${where} (no heading #${anchor} in ${relative(root, dest)})`);
    }
  }
  return broken;
}

describe('docs: links', () => {
  it('finds a broken file link and a broken anchor (the check can fail)', () => {
    const text = '# A page\n\n## Some `code`: here\n\n[ok](#some-code-here) [bad](#nope) [gone](missing.md)\n```\n[fenced](not-checked.md)\n```\n';
    expect(anchorsOf(text)).to.deep.equal(new Set(['a-page', 'some-code-here']));
    expect(relativeLinks(text)).to.deep.equal(['#some-code-here', '#nope', 'missing.md']);
  });

  it('every relative link of every Markdown file points at a file and a heading that exist', () => {
    const files = execFileSync('git', ['ls-files', '*.md'], { cwd: ROOT, encoding: 'utf8' })
      .split('\n').filter((f) => f !== '' && !f.startsWith('node_modules/')).map((f) => join(ROOT, f))
      .filter((f) => existsSync(f));
    expect(files.length).to.be.above(10);
    const broken = files.flatMap((f) => brokenLinks(f));
    expect(broken, broken.join('\n')).to.deep.equal([]);
  });
});
