// The candidate register blocks of the wasm GEMM kernel (src/backend/cpu/wasm/gemm.ts),
// timed on the kernel alone (operands already packed in its memory), one core,
// so the choice of GEMM_SHAPE is measured rather than assumed. Timed by hand:
// best of several runs after warm-up calls that let V8 tier the kernel up.
// Usage: npx tsx bench/wasm-gemm-versions.bench.ts [--size 1024] [--out bench-results/wasm-gemm-versions.json]

import { WasmGemm, gemmBlocked, GEMM_SHAPE, type GemmOperands, type GemmShape } from '../src/backend/cpu/wasm/gemm.js';
import { machine, printTable, writeJson, type Row } from './lib/report.js';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const size = Number(option('--size') ?? 1024);
const outPath = option('--out') ?? 'bench-results/wasm-gemm-versions.json';

const candidates: GemmShape[] = [
  { rows: 4, cols: 8 },
  { rows: 3, cols: 8 },
  { rows: 2, cols: 16 },
  { rows: 5, cols: 8 },
  { rows: 6, cols: 4 },
  { rows: 3, cols: 12 },
  { rows: 6, cols: 8 },
  { rows: 8, cols: 8 },
];

/**
 * GFLOP/s of one block shape on size^3. `inPlaceB` reads B as a plain [k, n]
 * matrix (what matmul does with an untransposed B) instead of packed panels.
 */
function gflops(shape: GemmShape, kSlice: number, colGroup: number, inPlaceB = false): number {
  const gemm = new WasmGemm(shape);
  const m = size, k = size, n = size;
  const rowPanels = Math.ceil(m / shape.rows), colPanels = Math.ceil(n / shape.cols);
  const aFloats = rowPanels * shape.rows * k, bFloats = colPanels * shape.cols * k + 16;
  gemm.reserve(aFloats + bFloats + rowPanels * shape.rows * colPanels * shape.cols);
  const memory = gemm.f32;
  for (let i = 0; i < aFloats + bFloats; i++) memory[i] = Math.random() - 0.5;
  const operands: GemmOperands = {
    aBase: 0,
    aPanelStride: shape.rows * k * 4,
    aStep: shape.rows * 4,
    bBase: aFloats * 4,
    bPanelStride: (inPlaceB ? shape.cols : shape.cols * k) * 4,
    bStep: (inPlaceB ? n : shape.cols) * 4,
    cBase: (aFloats + bFloats) * 4,
    ldc: colPanels * shape.cols * 4,
    k,
    colPanels,
  };
  const run = () => gemmBlocked(gemm.gemm, shape.rows, shape.cols, operands, 0, rowPanels, kSlice, colGroup);
  for (let i = 0; i < 3; i++) run(); // let V8 tier the kernel up from Liftoff to TurboFan
  let best = Infinity;
  for (let s = 0; s < 7; s++) {
    const t0 = performance.now();
    run();
    best = Math.min(best, performance.now() - t0);
  }
  return (2 * m * n * k) / (best / 1000) / 1e9;
}

const inUse = (shape: GemmShape) => shape.rows === GEMM_SHAPE.rows && shape.cols === GEMM_SHAPE.cols;
const column = `${size}^3 GFLOP/s`;
const rows: Row[] = candidates.map((shape) => ({ name: `${shape.rows}x${shape.cols}${inUse(shape) ? ' (in use)' : ''}`, [column]: gflops(shape, 256, 32) }));
rows.push({ name: `${GEMM_SHAPE.rows}x${GEMM_SHAPE.cols}, B read in place`, [column]: gflops(GEMM_SHAPE, 256, 32, true) });
// The cache blocking of the version in use: k slice x column group (in panels).
for (const [kSlice, colGroup] of [[128, 32], [512, 32], [1024, 128]] as const) {
  rows.push({ name: `${GEMM_SHAPE.rows}x${GEMM_SHAPE.cols}, k slice ${kSlice}, ${colGroup} column panels`, [column]: gflops(GEMM_SHAPE, kSlice, colGroup) });
}
printTable(`wasm GEMM kernel versions, one core, ${size}^3 (kernel only, packed operands)`, rows);
writeJson(outPath, { benchmark: 'wasm-gemm-versions', backend: 'cpu', machine: machine(), date: new Date().toISOString(), results: rows });
process.exit(0);
