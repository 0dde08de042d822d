// Kernel throughput (benny), CPU and WebGPU: the Backend calls the layers are built
// from, timed without the tensor/autograd layer above them.
//   softmax, layer_norm      GB/s (read x once, write y once) on attention- and BERT-sized rows
//   sigmoid, tanh, gelu(Grad) GB/s over 1024x1024 (CPU: wasm SIMD; MEDNER_CPU_KERNEL=js for Math)
//   lstm forward / backward  one direction of a packed batch, the whole recurrence
//                            (lstmForward, lstmBackward: src/nn/lstm.ts's lstmRecurrence)
//   crf forward / backward   forward algorithm (logZ + alpha) and forward-backward marginals
//   viterbi                  best paths; LSTM and CRF in sequences/s
// Matmul has its own benches (bench/matmul.bench.ts, bench/matmul-webgpu.bench.ts).
// Figures are from benny's best sample (least disturbed by other load). GPU work is
// asynchronous, so a WebGPU sample submits `reps` calls and reads the last output back;
// the rate divides by reps (the readback is amortised, not excluded).
//
// Usage: npx tsx bench/kernels.bench.ts [--backends cpu,webgpu] [--quick]
//          [--out bench-results/kernels.json]

import b from 'benny';
import type { Backend, Storage } from '../src/backend/backend.js';
import { Rng } from '../src/tensor/random.js';
import { machine, printTable, writeJson, type Row } from './lib/report.js';
import { flag, openBackend, option, versions } from './lib/harness.js';

const quick = flag('--quick');
const backends = option('--backends', 'cpu,webgpu').split(',');
const outPath = option('--out', 'bench-results/kernels.json');

const rng = new Rng(0);
const random = (n: number, scale = 1) => Float32Array.from({ length: n }, () => rng.normal() * scale);

/** One timed kernel: `run` issues it and returns every output storage (freed by the harness). */
interface Kernel {
  name: string;
  shape: string;
  /** Bytes moved per call, for GB/s; null where sequences/s is the figure. */
  bytes: number | null;
  /** Sequences per call, for sequences/s; null where GB/s is the figure. */
  sequences: number | null;
  run(): Storage[];
  dispose(): void;
}

function kernels(backend: Backend): Kernel[] {
  const list: Kernel[] = [];
  const keep: Storage[] = [];
  const up = (data: Float32Array) => {
    const s = backend.fromArray(data);
    keep.push(s);
    return s;
  };
  const dispose = () => keep.splice(0).forEach((s) => backend.free(s));

  // Row ops: attention probabilities at batch 16 x 64 tokens with 4 heads (rows of 64 keys), and BERT-base rows.
  const rowShapes: [number, number][] = quick ? [[4096, 64]] : [[4096, 64], [1024, 256], [2048, 768]];
  for (const [rows, dim] of rowShapes) {
    const x = up(random(rows * dim));
    list.push({ name: 'softmax', shape: `${rows}x${dim}`, bytes: 2 * rows * dim * 4, sequences: null, run: () => [backend.softmax(x, { outer: rows, axis: dim, inner: 1 }, false)], dispose });
    const gamma = up(random(dim));
    const beta = up(random(dim));
    list.push({
      name: 'layer_norm',
      shape: `${rows}x${dim}`,
      bytes: 2 * rows * dim * 4,
      sequences: null,
      run: () => Object.values(backend.layerNorm(x, gamma, beta, rows, dim, 1e-12)),
      dispose,
    });
  }

  // Activations over a BERT FFN's hidden layer at batch 16 x 64, hidden 256 (1,024 x 1,024). On
  // the CPU these run as WebAssembly SIMD (wasm/vector-math.ts); MEDNER_CPU_KERNEL=js times Math.
  const activations = up(random(1024 * 1024, 2));
  for (const op of ['sigmoid', 'tanh', 'gelu', 'geluGrad'] as const) {
    list.push({ name: op, shape: '1024x1024', bytes: 2 * 1024 * 1024 * 4, sequences: null, run: () => [backend.unary(op, activations)], dispose });
  }

  // LSTM, one direction over a packed batch (lstmForward / lstmBackward, as src/nn/lstm.ts calls
  // them): the BiLSTM-CRF on BC5CDR (32 sentences of up to 52 words, hidden 100) and the
  // BERT-BiLSTM head (16 x 64, hidden 64). Lengths from T/2 to T, longest first, as packed.
  for (const [B, T, H] of quick ? [[16, 64, 64]] : [[32, 52, 100], [16, 64, 64]]) {
    const G = 4 * H;
    const lengths = Array.from({ length: B }, (_, s) => Math.ceil(T / 2 + ((T / 2) * (B - 1 - s)) / B));
    const batchSizes = Array.from({ length: T }, (_, t) => lengths.filter((length) => length > t).length).filter((n) => n > 0);
    const N = batchSizes.reduce((total, n) => total + n, 0);
    const weightHH = up(random(G * H, 0.1));
    const xProj = up(random(N * G));
    const label = `B${B} T${T} H${H}`;
    list.push({ name: 'lstm forward', shape: label, bytes: null, sequences: B, run: () => Object.values(backend.lstmForward(xProj, weightHH, batchSizes, H)), dispose });
    const saved = backend.lstmForward(xProj, weightHH, batchSizes, H);
    keep.push(saved.h, saved.c, saved.act);
    const dh = up(random(N * H));
    list.push({
      name: 'lstm backward',
      shape: label,
      bytes: null,
      sequences: B,
      run: () => Object.values(backend.lstmBackward(dh, weightHH, saved.h, saved.c, saved.act, batchSizes, H)),
      dispose,
    });
  }

  // CRF: a BC5CDR training batch (32 sentences of ~26 words, BIO over Chemical and Disease: 5 tags),
  // an inference batch (128 x 40), and the BERT bench's batch (16 x 64).
  for (const [batch, steps, tags] of quick ? [[32, 26, 5]] : [[32, 26, 5], [128, 40, 5], [16, 64, 5]]) {
    const shape = { batch, steps, tags };
    const emissions = up(random(batch * steps * tags));
    // Lengths from steps/2 to steps: the masked tail is part of the work, as in a real batch.
    const maskValues = new Float32Array(batch * steps);
    for (let s = 0; s < batch; s++) maskValues.fill(1, s * steps, s * steps + Math.ceil(steps / 2 + ((steps / 2) * s) / batch));
    const mask = up(maskValues);
    const transitions = up(random(tags * tags, 0.1));
    const start = up(random(tags, 0.1));
    const end = up(random(tags, 0.1));
    const label = `B${batch} T${steps} C${tags}`;
    list.push({ name: 'crf forward', shape: label, bytes: null, sequences: batch, run: () => Object.values(backend.crfForward(emissions, mask, transitions, start, end, shape)), dispose });
    const forward = backend.crfForward(emissions, mask, transitions, start, end, shape);
    keep.push(forward.logZ, forward.alpha);
    const dlogZ = up(new Float32Array(batch).fill(1 / batch));
    list.push({
      name: 'crf backward',
      shape: label,
      bytes: null,
      sequences: batch,
      run: () => Object.values(backend.crfBackward(emissions, mask, transitions, start, end, forward.alpha, dlogZ, shape)),
      dispose,
    });
    list.push({ name: 'viterbi', shape: label, bytes: null, sequences: batch, run: () => Object.values(backend.viterbi(emissions, mask, transitions, start, end, shape)), dispose });
  }
  return list;
}

const rows: Row[] = [];
const adapters: Record<string, object | null> = {};
for (const backendName of backends) {
  const opened = await openBackend(backendName);
  adapters[backendName] = opened.adapterInfo;
  const { backend } = opened;
  const gpu = backendName !== 'cpu';
  const list = kernels(backend);
  for (const kernel of list) {
    // WebGPU: enough calls per sample that one readback does not dominate.
    const reps = gpu ? 10 : 1;
    const call = gpu
      ? async () => {
          let last: Storage[] = [];
          for (let r = 0; r < reps; r++) {
            last.forEach((s) => backend.free(s));
            last = kernel.run();
          }
          await backend.read(last[0]!);
          last.forEach((s) => backend.free(s));
        }
      : () => kernel.run().forEach((s) => backend.free(s));
    if (gpu) await call(); // compile the pipelines outside the samples
    let seconds = NaN;
    await b.suite(
      `${kernel.name} ${kernel.shape} on ${backendName}`,
      b.add(kernel.name, call, { minSamples: 5, maxTime: quick ? 0.5 : 1.5 }),
      b.cycle(() => undefined),
      b.complete((summary) => {
        seconds = summary.results[0]!.details.min / reps;
      }),
    );
    const row: Row = { name: kernel.name, shape: kernel.shape, backend: backendName, 'us/call': seconds * 1e6 };
    if (kernel.bytes !== null) row['GB/s'] = kernel.bytes / seconds / 1e9;
    if (kernel.sequences !== null) row['sequences/s'] = kernel.sequences / seconds;
    rows.push(row);
  }
  list[0]?.dispose();
}

printTable('Kernels (best benny sample; WebGPU: 10 calls per readback)', rows);
writeJson(outPath, { benchmark: 'kernels', machine: machine(), versions: versions(), adapters, date: new Date().toISOString(), results: rows });
process.exit(0);
