// The Backend interface: every kernel the engine issues, in one place.
// Ops (src/ops/*) call these; the CPU backend (src/backend/cpu) and the WebGPU
// backend (src/backend/webgpu + kernels/*.wgsl) implement them.
//
// Conventions:
// - A Storage is an opaque, contiguous, device-owned buffer of `size` elements.
// - Kernels allocate and return their outputs; only names ending in `InPlace`
//   write into an argument.
// - Reductions and softmax-like kernels see a tensor as [outer, axis, inner]
//   (the reduced axis in the middle), so any single axis maps onto one kernel.

export type DType = 'f32' | 'i32';
export type TypedArray = Float32Array | Int32Array;

/**
 * A weight matrix quantized for int8 inference (dynamic quantization, src/ops/quantized.ts): values
 * [rows, cols] row-major (row = output channel), symmetric, and one f32 scale per row: w ~ values * scale.
 * Host data, the same on every backend; a backend with int8 kernels packs it on first use.
 */
export interface QuantizedMatrix {
  readonly rows: number;
  readonly cols: number;
  readonly values: Int8Array;
  readonly scales: Float32Array;
}

export interface Storage {
  readonly size: number;
  readonly dtype: DType;
}

// The op names come from the op tables (src/ops/tables/): one row per op.
import type { BinaryOp, ReduceOp, UnaryOp } from '../ops/tables/index.js';
export type { BinaryOp, ReduceOp, UnaryOp };

/** Broadcast layout of an elementwise op: output shape plus per-input strides (0 on broadcast dims). */
export interface BroadcastLayout {
  outShape: number[];
  stridesA: number[];
  stridesB: number[];
  stridesC?: number[]; // third input of `where`
}

/** [outer, axis, inner] view of a tensor around one axis. */
export interface AxisLayout {
  outer: number;
  axis: number;
  inner: number;
}

export interface MatmulLayout {
  batch: number;
  m: number;
  k: number;
  n: number;
  transA: boolean; // A is stored as [k, m] per batch
  transB: boolean; // B is stored as [n, k] per batch
  batchStrideA: number; // 0 broadcasts A over the batch
  batchStrideB: number;
}

export interface StridedCopy {
  shape: number[];
  srcOffset: number;
  srcStrides: number[];
  dstOffset: number;
  dstStrides: number[];
}

export interface AdamWParams {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  step: number; // 1-based, for bias correction
}

/** A rotary embedding's view of x: [outer, length (positions), inner, dim (head size, even)]. */
export interface RotaryLayout {
  outer: number;
  length: number;
  inner: number;
  dim: number;
}

/** CRF shapes: B = batch, T = time steps, C = tags. Emissions [B,T,C], mask [B,T] (f32 0/1, prefix of ones). */
export interface CrfShape {
  batch: number;
  steps: number;
  tags: number;
}

/** Semi-Markov CRF shapes: B = batch, T = steps, K = segment labels, L = longest segment (src/backend/cpu/semi-crf.ts). */
export interface SemiCrfShape {
  batch: number;
  steps: number;
  labels: number;
  maxLength: number;
}

/** A semi-Markov CRF's inputs: emissions [B,T,K], mask [B,T], transitions [K,K], start and end [K], lengthScores [K,L]. */
export interface SemiCrfInputs {
  emissions: Storage;
  mask: Storage;
  transitions: Storage;
  start: Storage;
  end: Storage;
  lengthScores: Storage;
}

export interface Backend {
  readonly name: 'cpu' | 'webgpu';

  // ---- memory ----
  fromArray(data: TypedArray): Storage;
  zeros(size: number, dtype: DType): Storage;
  fill(size: number, value: number): Storage;
  read(s: Storage): Promise<TypedArray>;
  /** A synchronous read, where the backend has one (the CPU); Tensor.dataSync uses it. */
  readSync?(s: Storage): TypedArray;
  free(s: Storage): void;
  /** Buffers allocated and not yet freed; a leak test checks it returns to its start. */
  liveBuffers(): number;

  // ---- elementwise ----
  unary(op: UnaryOp, x: Storage): Storage;
  binary(op: BinaryOp, a: Storage, b: Storage, layout: BroadcastLayout): Storage;
  /** cond ? a : b, cond nonzero = true. */
  where(cond: Storage, a: Storage, b: Storage, layout: BroadcastLayout): Storage;
  /** One strided copy into an existing buffer: permute, slice, expand, concat are all this. */
  copyStridedInPlace(src: Storage, dst: Storage, copy: StridedCopy): void;

  // ---- reductions over one axis ----
  reduce(op: ReduceOp, x: Storage, layout: AxisLayout): Storage; // -> [outer, inner]
  argmax(x: Storage, layout: AxisLayout): Storage; // i32 [outer, inner]
  softmax(x: Storage, layout: AxisLayout, log: boolean): Storage;

  // ---- linear algebra ----
  matmul(a: Storage, b: Storage, layout: MatmulLayout): Storage; // -> [batch, m, n]

  // ---- indexing ----
  /** out[o, j, i] = x[o, index[j], i]; x is [outer, rows, inner]. */
  indexSelect(x: Storage, index: Storage, layout: AxisLayout, count: number): Storage;
  /** out = zeros([outer, rows, inner]); out[o, index[j], i] += grad[o, j, i]. */
  indexAdd(grad: Storage, index: Storage, layout: AxisLayout, count: number): Storage;

  // ---- fused layers ----
  /** x [rows, dim]; returns y and the per-row mean and reciprocal std saved for backward. */
  layerNorm(x: Storage, gamma: Storage, beta: Storage, rows: number, dim: number, eps: number): { y: Storage; mean: Storage; rstd: Storage };
  layerNormBackward(dy: Storage, x: Storage, gamma: Storage, mean: Storage, rstd: Storage, rows: number, dim: number): { dx: Storage; dgamma: Storage; dbeta: Storage };
  /** Per-row weighted NLL of log_softmax(logits) at the target, and the row's weight (0 when ignored). */
  crossEntropy(logits: Storage, targets: Storage, classWeights: Storage | null, rows: number, classes: number, ignoreIndex: number): { loss: Storage; weight: Storage };
  /** dlogits = (softmax(logits) - onehot(target)) * weight[target] * dloss[row]. */
  crossEntropyBackward(logits: Storage, targets: Storage, classWeights: Storage | null, dloss: Storage, rows: number, classes: number, ignoreIndex: number): Storage;
  /** Inverted-dropout mask: 0 or 1/(1-p), from a counter-based hash of (seed, index), identical on every backend. */
  dropoutMask(size: number, p: number, seed: number): Storage;

  // ---- transformer kernels (ModernBERT: src/ops/transformer.ts) ----
  /** Rotary position embedding (HF rotate_half): x [outer, S, inner, D], cos and sin [S, D/2]; inverse = the backward rotation. */
  rotary(x: Storage, cos: Storage, sin: Storage, layout: RotaryLayout, inverse: boolean): Storage;
  /** Sliding-window attention bias [B, S, S] from a 0/1 mask [B, S]: 0 where mask[b, j] = 1 and |i - j| <= halfWindow, else `masked`. */
  windowBias(mask: Storage, batch: number, length: number, halfWindow: number, masked: number): Storage;
  /** GeGLU: x [rows, 2I] -> gelu(x[:, :I]) * x[:, I:], [rows, I]. */
  geglu(x: Storage, rows: number, width: number): Storage;
  /** GeGLU's gradient: dy [rows, I], x [rows, 2I] -> dx [rows, 2I]. */
  gegluBackward(dy: Storage, x: Storage, rows: number, width: number): Storage;

  // ---- sequence kernels (LSTM, linear-chain CRF) ----
  /**
   * One LSTM direction over a packed batch, as PyTorch's PackedSequence: rows are time-major, step t
   * holds batchSizes[t] rows (non-increasing, so the sequences still running are a prefix), and row i
   * of step t continues row i of step t-1; initial states are zero. xProj [N, 4H] = x W_ih^T + biases,
   * gates in PyTorch's order (i, f, g, o); weightHH [4H, H]. Returns h and c [N, H] and the activated
   * gates act [N, 4H], saved for the backward pass.
   */
  lstmForward(xProj: Storage, weightHH: Storage, batchSizes: readonly number[], hidden: number): { h: Storage; c: Storage; act: Storage };
  /** Backpropagation through time of lstmForward: upstream dh [N, H] -> dxProj [N, 4H] (the gate gradients) and dWeightHH [4H, H]. */
  lstmBackward(dh: Storage, weightHH: Storage, h: Storage, c: Storage, act: Storage, batchSizes: readonly number[], hidden: number): { dxProj: Storage; dWeightHH: Storage };
  /** Forward algorithm in log space. alpha [B,T,C] is kept for the backward pass; logZ [B]. */
  crfForward(emissions: Storage, mask: Storage, transitions: Storage, start: Storage, end: Storage, shape: CrfShape): { logZ: Storage; alpha: Storage };
  /** Gradient of sum_b dlogZ[b] * logZ[b] by forward-backward marginals (not autodiff through the recursion). */
  crfBackward(emissions: Storage, mask: Storage, transitions: Storage, start: Storage, end: Storage, alpha: Storage, dlogZ: Storage, shape: CrfShape): { dEmissions: Storage; dTransitions: Storage; dStart: Storage; dEnd: Storage };
  /** Batched Viterbi with backtracking on the device: best tags i32 [B,T] (0 past the mask) and their scores [B]. */
  viterbi(emissions: Storage, mask: Storage, transitions: Storage, start: Storage, end: Storage, shape: CrfShape): { tags: Storage; score: Storage };

  /** Segment-level forward algorithm: logZ [B] and alpha [B,T,K] (kept for the backward pass). */
  semiCrfForward(inputs: SemiCrfInputs, shape: SemiCrfShape): { logZ: Storage; alpha: Storage };
  /** Gradient of sum_b dlogZ[b] * logZ[b] by segment-level forward-backward marginals; parameter gradients summed over the batch. */
  semiCrfBackward(inputs: SemiCrfInputs, alpha: Storage, dlogZ: Storage, shape: SemiCrfShape): { dEmissions: Storage; dTransitions: Storage; dStart: Storage; dEnd: Storage; dLengths: Storage };
  /** Best segmentation: i32 [B,T] codes (label where a segment begins, label + K inside one, 0 past the mask) and scores [B]. */
  semiCrfViterbi(inputs: SemiCrfInputs, shape: SemiCrfShape): { labels: Storage; score: Storage };

  // ---- optimizer ----
  adamwInPlace(param: Storage, grad: Storage, m: Storage, v: Storage, opts: AdamWParams): void;

  // ---- int8 inference (optional: src/ops/quantized.ts falls back to the dequantized f32 weight) ----
  /** y [rows, O] = dequantize(quantizeRows(x [rows, I]) x weight^T) + bias [O]; activations quantized per row, symmetric int8. */
  linearInt8?(x: Storage, weight: QuantizedMatrix, bias: Storage | null, rows: number): Storage;
  /** lstmForward's h with an int8 recurrent weight [4H, H] (h_{t-1} quantized per row at each step); inference only. */
  lstmForwardInt8?(xProj: Storage, weightHH: QuantizedMatrix, batchSizes: readonly number[], hidden: number): Storage;
  /** Forget whatever the backend keeps for this weight (its packed copy). */
  releaseInt8?(weight: QuantizedMatrix): void;
}
