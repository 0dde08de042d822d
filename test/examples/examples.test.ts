// Every teaching example in examples/ runs as a child process with tiny settings, exits
// with 0 and prints its key line: the examples are documentation that CI keeps true.

import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

function runExample(file: string, args: string[] = []): { status: number | null; output: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', `examples/${file}`, ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
    // MEDNER_BACKEND would override the examples' own backend choice.
    env: { ...process.env, MEDNER_BACKEND: '' },
  });
  return { status: result.status, output: `${result.stdout}\n${result.stderr}` };
}

// [file, tiny arguments, lines the output must contain]
const EXAMPLES: [string, string[], RegExp[]][] = [
  ['01-autodiff.ts', [], [/df\/da/, /largest difference/]],
  ['02-mlp-xor.ts', [], [/learned XOR/]],
  ['03-crf-by-hand.ts', [], [/81 paths/, /CRF agrees with brute force/]],
  ['04-bilstm-crf-ncbi.ts', ['--tiny'], [/model: bilstm-crf/, /best dev F1 \d\.\d{4}/, /start {2}end {2}confidence/, /\d+ entities/]],
  ['05-bert-bilstm-crf.ts', ['--sentences', '12', '--epochs', '1'], [/backend: (webgpu|cpu) — /, /model: bert-bilstm-crf/, /best dev F1 \d\.\d{4}/]],
  ['06-wgsl-kernel.ts', ['32', '1'], [/override TILE_COLUMNS/, /cpu \(TypeScript\) .* GFLOP\/s/, /every backend within/]],
  ['07-crf-variants.ts', ['--sentences', '24', '--epochs', '1'], [/partial labels: \d+ of \d+ training tags hidden/, /hidden-as-O +BIO-constrained +\d\.\d{4}/]],
  ['08-semi-markov-vs-linear.ts', ['--tiny', '--samples', '500'], [/linear CRF, 2 seeds/, /semi-markov CRF, 2 seeds/, /mean ± std \(2\)/, /semi-markov - linear: [+-]\d\.\d{4} .*95% interval \[.*p = [\d.e-]+ \(approximate randomization\)/]],
];

describe('examples', () => {
  for (const [file, args, expected] of EXAMPLES) {
    it(`${file} ${args.join(' ')}`.trim(), () => {
      const { status, output } = runExample(file, args);
      if (status !== 0) throw new Error(`examples/${file} exited with ${status}:\n${output.slice(-3000)}`);
      for (const pattern of expected) expect(output).toMatch(pattern);
    }, 90_000);
  }
});
