// A lint rule: no file may reach itself through its relative imports (type-only imports count: a
// cycle of types still ties two rooms into one). The file being linted contributes its imports from
// the AST; every other file's are read from disk once per process, by a scan of its import and
// export-from declarations (dynamic import() is a deliberate lazy edge and does not count).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';

const STATIC_IMPORT = /^\s*(?:import|export)\b[^;'"]*?(?:\bfrom\s*)?['"](\.{1,2}\/[^'"]+)['"]/gm;
const diskEdges = new Map();

/** The .ts file a relative specifier names ('./x.js' → './x.ts', './dir' → './dir/index.ts'), if any. */
function resolveSpecifier(fromFile, specifier) {
  const base = resolve(dirname(fromFile), specifier);
  for (const candidate of [base.replace(/\.js$/, '.ts'), `${base}.ts`, resolve(base, 'index.ts')]) {
    if (candidate.endsWith('.ts') && existsSync(candidate)) return candidate;
  }
  return undefined;
}

function edgesOnDisk(file) {
  let edges = diskEdges.get(file);
  if (edges === undefined) {
    edges = [];
    let text;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      text = '';
    }
    for (const m of text.matchAll(STATIC_IMPORT)) {
      const target = resolveSpecifier(file, m[1]);
      if (target !== undefined) edges.push(target);
    }
    diskEdges.set(file, edges);
  }
  return edges;
}

/** A path of files from `start` back to `file`, or undefined. */
function cycleThrough(file, start) {
  const seen = new Set([file]);
  const stack = [[start, [start]]];
  while (stack.length > 0) {
    const [at, path] = stack.pop();
    if (at === file) return path;
    if (seen.has(at)) continue;
    seen.add(at);
    for (const next of edgesOnDisk(at)) stack.push([next, [...path, next]]);
  }
  return undefined;
}

export const noImportCycle = {
  meta: {
    type: 'problem',
    docs: { description: 'Forbid relative import cycles between files.' },
    messages: { cycle: 'Import cycle: {{path}}. Move the shared part down a layer (a types module both can import).' },
    schema: [],
  },
  create(context) {
    const file = resolve(context.filename);
    if (!file.endsWith('.ts')) return {};
    const check = (node) => {
      const specifier = node.source?.value;
      if (typeof specifier !== 'string' || !specifier.startsWith('.')) return;
      const target = resolveSpecifier(file, specifier);
      if (target === undefined || target === file) return;
      const path = cycleThrough(file, target);
      if (path === undefined) return;
      const cwd = context.cwd;
      context.report({ node, messageId: 'cycle', data: { path: [file, ...path].map((p) => relative(cwd, p)).join(' → ') } });
    };
    return { ImportDeclaration: check, ExportNamedDeclaration: check, ExportAllDeclaration: check };
  },
};

export default { rules: { 'no-import-cycle': noImportCycle } };
