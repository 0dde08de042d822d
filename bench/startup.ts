// Start-up time of the `medner` binary: `--help`, and `predict` of one sentence with a
// model trained on the bundled sample, run as the installed package runs them (plain node
// on dist/) beside the TypeScript sources through tsx (how the binary ran before the
// build; tsx's transform cache is warm after the first run). Per process: wall-clock
// median and minimum of --runs runs, and the median CPU time (user + system, from the
// children's times in /proc/self/stat on Linux), which a busy machine disturbs less;
// `node -e 0` is the floor.
//
//   npm run build && npx tsx bench/startup.ts [--runs 15] [--model <dir>] [--before <checkout>]
//
// --before adds the rows of another checkout's binary, e.g. the version before the build
// (its bin registered tsx and imported every command eagerly):
//   git worktree add /tmp/medner-before 06a71b0 && ln -s "$PWD/node_modules" /tmp/medner-before/
//   npx tsx bench/startup.ts --before /tmp/medner-before

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '15' }, model: { type: 'string' }, before: { type: 'string' } } });
const runs = Number(values.runs);
const BUILT = 'dist/cli/main.js';
const SOURCES = 'src/cli/bin.js';
const SENTENCE = 'Cisplatin caused acute renal failure in two patients.';

if (!existsSync(BUILT)) throw new Error(`${BUILT} is missing: run npm run build first`);

/** CPU time of this process's reaped children, ms (cutime + cstime, in clock ticks of 10 ms); NaN off Linux. */
function childrenCpuMs(): number {
  if (!existsSync('/proc/self/stat')) return NaN;
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[13]) + Number(fields[14])) * 10;
}

function timeOnce(args: string[]): { wall: number; cpu: number } {
  const cpuBefore = childrenCpuMs();
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { encoding: 'utf8' });
  const wall = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`node ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return { wall, cpu: childrenCpuMs() - cpuBefore };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function measure(label: string, args: string[]): void {
  timeOnce(args); // warm the file cache (and tsx's transform cache)
  const times = Array.from({ length: runs }, () => timeOnce(args));
  const wall = times.map((t) => t.wall);
  const cells = [median(wall), Math.min(...wall), median(times.map((t) => t.cpu))].map((x) => x.toFixed(0).padStart(9));
  console.log(`${label.padEnd(50)} ${cells.join(' ')}`);
}

let scratch: string | null = null;
let model = values.model;
if (!model) {
  scratch = mkdtempSync(join(tmpdir(), 'medner-startup-'));
  model = join(scratch, 'model');
  console.log(`training a BiLSTM-CRF on the bundled sample (1 epoch; the size, not the accuracy, matters here) into ${model}`);
  timeOnce([BUILT, 'train', '--epochs', '1', '--no-progress', '--out', model]);
}

console.log(`${runs} runs each; ms per process\n`);
console.log(`${'command'.padEnd(50)} ${['wall med', 'wall min', 'cpu med'].map((h) => h.padStart(9)).join(' ')}`);
measure('node -e 0 (Node start-up)', ['-e', '0']);
measure('medner --help (dist/, plain node)', [BUILT, '--help']);
measure('medner --help (src/ through tsx)', [SOURCES, '--help']);
measure('medner predict, one sentence (dist/, plain node)', [BUILT, 'predict', '--model', model, SENTENCE]);
measure('medner predict, one sentence (src/ through tsx)', [SOURCES, 'predict', '--model', model, SENTENCE]);
if (values.before) {
  const before = join(values.before, 'src/cli/bin.js');
  measure('medner --help (--before checkout)', [before, '--help']);
  measure('medner predict, one sentence (--before checkout)', [before, 'predict', '--model', model, SENTENCE]);
}
if (scratch) rmSync(scratch, { recursive: true, force: true });
