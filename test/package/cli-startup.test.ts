// `medner --help` starts fast because the CLI's static imports reach no engine module: each
// command imports the engine, checkpoints and trainer with `await import()` inside its action
// (README "Start-up"). This reads the static import graph from src/cli/main.ts; the pack test
// checks the same on the installed package by watching what node loads.

import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

/** Loaded only when a command runs: the engine and the heavy parts of training. */
const ENGINE = /^(tensor\/(?!shape\.ts|random\.ts)|backend\/|autograd\/|ops\/(?!tables\/)|nn\/|crf\/|optim\/|io\/|models\/|train\/(trainer|checkpoint|evaluate|step|model-factory)\.ts)/;

/** src-relative modules that `file` imports statically at run time (not `import type`, not `import()`). */
function staticImports(file: string): string[] {
  const text = readFileSync(resolve(SRC, file), 'utf8');
  const specifiers = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s+(?!type\b)[^'";]*?from\s+['"]([^'"]+)['"]|(?:^|\n)\s*import\s+['"]([^'"]+)['"]/g)]
    .map((m) => m[1] ?? m[2]!)
    .filter((s) => s.startsWith('.'));
  return specifiers.map((s) => relative(SRC, resolve(dirname(resolve(SRC, file)), s)).replace(/\.js$/, '.ts'));
}

it('medner --help reaches no engine module through static imports', () => {
  const reached = new Map<string, string>([['cli/main.ts', '']]);
  for (const [file] of reached) for (const target of staticImports(file)) if (!reached.has(target)) reached.set(target, file);
  const engine = [...reached].filter(([file]) => ENGINE.test(file)).map(([file, from]) => `${file} (imported by ${from}; import it inside the command's action)`);
  expect(reached.size).toBeGreaterThan(5);
  expect(engine).toEqual([]);
});
