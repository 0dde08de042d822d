// CPU matmul GFLOP/s (benny): the naive i-k-j loop, the 4x4 register-blocked
// kernel on one core, and the same kernel split across two cores.
// Usage: npx tsx bench/matmul.bench.ts [--out bench-results/matmul-cpu.json] [--quick]

import b from 'benny';
import { matmul, matmulNaive } from '../src/backend/cpu/matmul.js';
import { Rng } from '../src/tensor/random.js';
import { machine, printTable, writeJson, type Row } from './lib/report.js';

const args = process.argv.slice(2);
const outPath = args[args.indexOf('--out') + 1] && args.includes('--out') ? args[args.indexOf('--out') + 1]! : 'bench-results/matmul-cpu.json';
const quick = args.includes('--quick');

// [m, k, n]: squares from the core issue, then BERT-base shapes (2048 tokens x hidden 128 / 768).
const shapes: [number, number, number][] = quick
  ? [[256, 256, 256], [512, 512, 512]]
  : [[256, 256, 256], [512, 512, 512], [1024, 1024, 1024], [2048, 128, 512], [2048, 768, 3072]];

const rng = new Rng(0);
const random = (n: number) => Float32Array.from({ length: n }, () => rng.normal());

const rows: Row[] = [];
for (const [m, k, n] of shapes) {
  const a = random(m * k);
  const bm = random(k * n);
  const layout = { batch: 1, m, k, n, transA: false, transB: false, batchStrideA: 0, batchStrideB: 0 };
  const flops = 2 * m * k * n;
  const big = flops > 4e9;
  const options = { minSamples: big ? 2 : 5, maxTime: big ? 4 : 2 };
  const row: Row = { name: `${m}x${k} * ${k}x${n}`, shape: [m, k, n] };
  await b.suite(
    row.name as string,
    // The naive loop at the two largest shapes would take minutes per sample.
    ...(flops <= 2 * 512 ** 3 * 1.1 ? [b.add('naive i-k-j', () => matmulNaive(a, bm, m, k, n), options)] : []),
    b.add('blocked 4x4, 1 core', () => matmul(a, bm, layout, false), options),
    b.add('blocked 4x4, 2 cores', () => matmul(a, bm, layout, true), options),
    b.cycle(() => undefined),
    b.complete((summary) => {
      for (const r of summary.results) {
        const key = r.name.startsWith('naive') ? 'naive GFLOP/s' : r.name.includes('1 core') ? 'blocked 1 core GFLOP/s' : 'blocked 2 cores GFLOP/s';
        row[key] = (r.ops * flops) / 1e9;
      }
    }),
  );
  row['2 cores / 1 core'] = (row['blocked 2 cores GFLOP/s'] as number) / (row['blocked 1 core GFLOP/s'] as number);
  rows.push(row);
}
printTable('CPU matmul, fp32 (GFLOP/s)', rows);
writeJson(outPath, { benchmark: 'matmul', backend: 'cpu', machine: machine(), date: new Date().toISOString(), results: rows });
process.exit(0);
