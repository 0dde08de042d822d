// Example 6 — one WGSL kernel, line by line: kernels/matmul_vec4.wgsl, the matrix
// product behind every Linear layer, attention score and LSTM gate on the WebGPU
// backend. We print the shader with notes beside its key lines, run C = A x B on the
// CPU backend and on WebGPU, compare both with a float64 reference, and time them.
// Run: npx tsx examples/06-wgsl-kernel.ts [size=256] [repeats=5]

import { readFileSync } from 'node:fs';
import { cpuBackend, ops, tensor, Rng, type Backend } from '../src/index.js';

const size = Number(process.argv[2] ?? 256); // square matrices; a multiple of 4 so the vec4 kernel applies
const repeats = Number(process.argv[3] ?? 5);
if (!Number.isInteger(size) || size < 4 || size % 4 !== 0) throw new Error(`size must be a multiple of 4, got ${process.argv[2]}`);

// ---- 1. the kernel, with notes. Matched by the text of a line, so they survive edits elsewhere. ----
const NOTES: [string, string][] = [
  ['override TILE_COLUMNS', 'pipeline-creation constants: the host fixes them when it compiles the pipeline (no string templating)'],
  ['override TRANS_A', 'one source, four pipelines: A or B read transposed (backward needs A^T x dC and dC x B^T)'],
  ['struct Params', 'sizes arrive in a uniform buffer, so one compiled pipeline serves every shape'],
  ['var<storage, read> a: array<vec4f>', 'A is read 4 floats at a time: one 16-byte load instead of four'],
  ['var<storage, read_write> c', 'C is written as plain floats'],
  ['@workgroup_size', '8 x 8 = 64 invocations per workgroup; each owns a 4x4 block of C, so a workgroup covers 32 x 32'],
  ['let row0 = id.y * 4u', 'global_invocation_id -> the top-left corner of this invocation\'s 4x4 block'],
  ['if (row0 >= params.m', 'the grid is rounded up to whole workgroups: invocations past the edge do nothing'],
  ['let rows = min(', 'clamp instead of branching: edge rows read valid memory and their results are dropped at the end'],
  ['var acc = array<vec4f, 4>', '16 accumulators live in registers: no shared memory, no barriers (barriers are what is slow on llvmpipe)'],
  ['for (var depth = 0u; depth < k; depth += 4u)', 'walk the shared dimension 4 at a time'],
  ['aRows = mat4x4f(a[(baseA + rows.x', 'four vec4 loads = a 4x4 block of A (rows row0..row0+3, columns depth..depth+3)'],
  ['bRows = mat4x4f(b[(baseB + depth * n', 'four vec4 loads = a 4x4 block of B'],
  ['acc[0] += bRows * aRows[0]', 'a matrix-vector product: row r of C += sum_q A[r, q] * B[q, :]  (16 FMAs; 64 per step)'],
  ['if (column < n) { c[', 'write back only the in-range part of the block'],
];
const kernelPath = new URL('../kernels/matmul_vec4.wgsl', import.meta.url);
const source = readFileSync(kernelPath, 'utf8').split('\n');
console.log(`==== kernels/matmul_vec4.wgsl (${source.length} lines; the header comment is the kernel's own contract) ====`);
source.forEach((line, i) => {
  const note = NOTES.find(([key]) => line.includes(key));
  console.log(`${String(i + 1).padStart(3)} | ${line}`);
  if (note) console.log(`    |   ^ ${note[1]}`);
});
console.log('Host side: src/backend/webgpu/kernels.ts declares its bindings and uniforms (KERNELS.matmulVec4); WebGpuBackend.matmul');
console.log('in src/backend/webgpu/index.ts picks it when the sizes are multiples of 4 and dispatches ceil(n/32) x ceil(m/32) x batch workgroups.\n');

// ---- 2. the float64 reference ----
const rng = new Rng(6);
const aValues = Float32Array.from({ length: size * size }, () => rng.normal());
const bValues = Float32Array.from({ length: size * size }, () => rng.normal());
const reference = new Float64Array(size * size);
for (let i = 0; i < size; i++) {
  for (let p = 0; p < size; p++) {
    const aip = aValues[i * size + p]!;
    for (let j = 0; j < size; j++) reference[i * size + j]! += aip * bValues[p * size + j]!;
  }
}

// ---- 3. the same op on each backend: correctness, then speed ----
async function measure(backend: Backend): Promise<{ maxError: number; gflops: number }> {
  const a = tensor(aValues, [size, size], { backend });
  const b = tensor(bValues, [size, size], { backend });
  const first = ops.matmul(a, b);
  const result = await first.data(); // the first run also compiles the pipeline: not timed
  first.dispose();
  let maxError = 0;
  for (let i = 0; i < result.length; i++) maxError = Math.max(maxError, Math.abs(result[i]! - reference[i]!));
  // GPU work is queued asynchronously: time `repeats` products and wait on the last readback,
  // which completes only after every queued dispatch has run.
  const started = performance.now();
  const products = Array.from({ length: repeats }, () => ops.matmul(a, b));
  await products.at(-1)!.data();
  const seconds = (performance.now() - started) / 1000;
  for (const t of [a, b, ...products]) t.dispose();
  return { maxError, gflops: (2 * size ** 3 * repeats) / seconds / 1e9 };
}

const backends: { name: string; backend: Backend }[] = [{ name: 'cpu (TypeScript)', backend: cpuBackend }];
try {
  const { createWebGpuBackend } = await import('../src/backend/webgpu/index.js');
  const webgpu = await createWebGpuBackend();
  backends.push({ name: 'webgpu (kernels/*.wgsl)', backend: webgpu });
  console.log(`WebGPU adapter: ${webgpu.adapter.description}${webgpu.adapter.fallback ? ' (software fallback: the GPU is emulated on the CPU)' : ''}`);
} catch (error) {
  console.log(`no WebGPU adapter, CPU only: ${(error as Error).message.split('\n')[0]}`);
}

console.log(`C = A x B, ${size}x${size} float32, ${repeats} timed repeats; error against a float64 reference`);
let worst = 0;
for (const { name, backend } of backends) {
  const { maxError, gflops } = await measure(backend);
  worst = Math.max(worst, maxError);
  console.log(`${name.padEnd(26)}  max |error| ${maxError.toExponential(2)}  ${gflops.toFixed(2).padStart(7)} GFLOP/s`);
}
// float32 sums of `size` products of N(0,1) values: rounding grows like sqrt(size) * 2^-24 * |terms|.
const tolerance = 1e-5 * size;
console.log(worst < tolerance ? `every backend within ${tolerance.toExponential(1)} of the reference` : `ERROR above ${tolerance.toExponential(1)}`);
if (worst >= tolerance) process.exitCode = 1;
