// Start-up time of the `medner` binary: `--help`, and `predict` of one sentence with a
// model trained on the bundled sample, run as the installed package runs them (plain node
// on dist/) beside the TypeScript sources through tsx (how the binary ran before the
// build; tsx's transform cache is warm after the first run). Wall-clock per process,
// median and minimum of --runs runs; `node -e 0` is the floor.
//
//   npm run build && npx tsx bench/startup.ts [--runs 15] [--model <dir>]

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '15' }, model: { type: 'string' } } });
const runs = Number(values.runs);
const BUILT = 'dist/cli/main.js';
const SOURCES = 'src/cli/bin.js';
const SENTENCE = 'Cisplatin caused acute renal failure in two patients.';

if (!existsSync(BUILT)) throw new Error(`${BUILT} is missing: run npm run build first`);

function timeOnce(args: string[]): number {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`node ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return ms;
}

function measure(label: string, args: string[]): void {
  timeOnce(args); // warm the file cache (and tsx's transform cache)
  const times = Array.from({ length: runs }, () => timeOnce(args)).sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)]!;
  console.log(`${label.padEnd(50)} ${median.toFixed(0).padStart(7)} ${times[0]!.toFixed(0).padStart(7)}`);
}

let scratch: string | null = null;
let model = values.model;
if (!model) {
  scratch = mkdtempSync(join(tmpdir(), 'medner-startup-'));
  model = join(scratch, 'model');
  console.log(`training a BiLSTM-CRF on the bundled sample (1 epoch; the size, not the accuracy, matters here) into ${model}`);
  timeOnce([BUILT, 'train', '--epochs', '1', '--no-progress', '--out', model]);
}

console.log(`${runs} runs each; wall-clock ms per process\n`);
console.log(`${'command'.padEnd(50)} ${'median'.padStart(7)} ${'min'.padStart(7)}`);
measure('node -e 0 (Node start-up)', ['-e', '0']);
measure('medner --help (dist/, plain node)', [BUILT, '--help']);
measure('medner --help (src/ through tsx)', [SOURCES, '--help']);
measure('medner predict, one sentence (dist/, plain node)', [BUILT, 'predict', '--model', model, SENTENCE]);
measure('medner predict, one sentence (src/ through tsx)', [SOURCES, 'predict', '--model', model, SENTENCE]);
if (scratch) rmSync(scratch, { recursive: true, force: true });
