// The architecture as a test: imports point down the layers and never form a cycle.
// Layers, bottom first (README "Architecture"): the op tables and the toolkit's plain
// libraries (text, data, metrics) -> backend -> tensor -> autograd -> ops -> nn, crf,
// optim, io -> models -> train -> the library API (api.ts) -> cli -> index.ts. A module
// may import its own layer or any layer below. Only run-time imports count: `import type`
// is erased by tsc, loads nothing and orders nothing (the op tables name the Tensor type in
// their gradients' signatures, and the Tensor names its autograd node's type).
// No dependency: the imports are read from the sources with a regular expression.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

/** Layer of a module, by path under src/ (longest prefix wins). */
const LAYERS: [prefix: string, rank: number][] = [
  // Plain functions that import nothing of the engine: shape arithmetic and the seeded hash sit with them.
  ['ops/tables/', 0], ['text/', 0], ['data/', 0], ['metrics/', 0], ['tensor/shape.ts', 0], ['tensor/random.ts', 0],
  // The platform seam (node: or browser APIs behind one interface) imports nothing of medner.
  ['platform/', 0],
  ['backend/', 1],
  ['tensor/', 2],
  ['autograd/', 3],
  ['ops/', 4],
  ['nn/', 5], ['crf/', 5], ['optim/', 5], ['io/', 5],
  ['models/', 6],
  ['train/', 7],
  ['api.ts', 8], ['research/', 8],
  ['cli/', 9],
  ['index.ts', 10], ['browser.ts', 10],
];
const NAMES = ['tables, text, data, metrics', 'backend', 'tensor', 'autograd', 'ops', 'nn, crf, optim, io', 'models', 'train', 'api, research', 'cli', 'index'];

function layerOf(file: string): number {
  const match = LAYERS.filter(([prefix]) => file === prefix || file.startsWith(prefix)).sort((a, b) => b[0].length - a[0].length)[0];
  if (!match) throw new Error(`src/${file}: in no layer; add its folder to LAYERS in test/architecture/layers.test.ts`);
  return match[1];
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return /\.(ts|js)$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** src-relative module -> the src-relative modules it loads at run time (static, dynamic, side-effect imports and re-exports). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const path of sources(SRC)) {
    const text = readFileSync(path, 'utf8');
    const specifiers = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s+(?!type\b)[^'";]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s+['"]([^'"]+)['"]/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
    const targets = specifiers
      .filter((s) => s.startsWith('.'))
      .map((s) => relative(SRC, resolve(dirname(path), s)).replace(/\.js$/, '.ts'))
      .map((t) => (t.endsWith('.ts') || t.endsWith('.js') ? t : `${t}.ts`));
    graph.set(relative(SRC, path), [...new Set(targets)]);
  }
  return graph;
}

function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): void => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue;
      if (state.get(next) === 'open') found.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node);
  return found;
}

describe('the import graph of src/', () => {
  const graph = importGraph();

  it('reads every module and resolves every relative import to a module', () => {
    expect(graph.size).toBeGreaterThan(50);
    for (const [from, targets] of graph) for (const to of targets) expect(graph.has(to) || to.startsWith('..'), `src/${from} imports src/${to}, which is not a module`).toBe(true);
  });

  it('imports point down the layers', () => {
    const upward: string[] = [];
    for (const [from, targets] of graph) {
      for (const to of targets) {
        if (!graph.has(to)) continue;
        if (layerOf(to) > layerOf(from)) upward.push(`src/${from} (${NAMES[layerOf(from)]}) imports src/${to} (${NAMES[layerOf(to)]})`);
      }
    }
    expect(upward, upward.join('\n')).toEqual([]);
  });

  it('has no import cycle', () => {
    const found = cycles(graph).map((c) => c.map((m) => `src/${m}`).join(' -> '));
    expect(found, found.join('\n')).toEqual([]);
  });

  it('finds a cycle and an upward import when there is one (the checker itself)', () => {
    const fake = new Map([['ops/a.ts', ['tensor/b.ts']], ['tensor/b.ts', ['ops/a.ts']]]);
    expect(cycles(fake)).toEqual([['ops/a.ts', 'tensor/b.ts', 'ops/a.ts']]);
    expect(layerOf('tensor/b.ts')).toBeLessThan(layerOf('ops/a.ts'));
  });
});
