// CPU kernels of one LSTM direction over a packed batch (PyTorch's PackedSequence layout,
// see backend.ts): the whole recurrence in one call, forward and backward. The recurrent
// weight is packed for the matmul kernel once per call, not once per time step, and only
// the sequences still running at a step are computed: no work is spent on padding. The
// sigmoids and tanhs run in bulk through wasm/vector-math.ts.
// N = packed rows, T = steps, n = rows at a step, H = hidden, G = 4H gates (i, f, g, o).

import type { QuantizedMatrix } from '../backend.js';
import { matmul, withFixedRightOperand, type FixedRightProduct } from './matmul.js';
import { linearInt8 } from './quantized.js';
import { applyVectorFunction } from './elementwise.js';
import { allocF32, releaseF32 } from './pool.js';
import { vectorMath } from './wasm/vector-math.js';

/** Where each step's rows start: offsets[t] = batchSizes[0] + ... + batchSizes[t-1]; offsets[T] = N. */
function stepOffsets(batchSizes: readonly number[]): number[] {
  const offsets = [0];
  for (const n of batchSizes) offsets.push(offsets[offsets.length - 1]! + n);
  return offsets;
}

/**
 * h_t = o * tanh(c_t), c_t = f * c_{t-1} + i * g, gates = xProj_t + h_{t-1} W_hh^T. With an int8
 * W_hh (inference), h_{t-1} is quantized per row at each step and the product runs in int8 (quantized.ts).
 */
export function lstmForward(xProj: Float32Array, weightHH: Float32Array | QuantizedMatrix, batchSizes: readonly number[], H: number) {
  const G = 4 * H;
  const offsets = stepOffsets(batchSizes);
  const N = offsets[batchSizes.length]!;
  const h = allocF32(N * H, true);
  const c = allocF32(N * H, true);
  const act = allocF32(N * G, true);
  const widest = batchSizes[0] ?? 0;
  const gates = new Float32Array(widest * G); // pre-activations of the step's rows
  const tanhCell = new Float32Array(widest * H);
  const zeroState = new Float32Array(widest * H);
  const cell = H % 4 === 0 ? vectorMath() : null;
  const withRecurrentWeight = (body: (multiply: FixedRightProduct) => void) => {
    if (weightHH instanceof Float32Array) withFixedRightOperand(weightHH, H, G, true, widest, body);
    else body((a, aOffset, m, c, cOffset, d, dOffset) => linearInt8(a, aOffset, m, weightHH, null, c, cOffset, d, dOffset));
  };
  withRecurrentWeight((multiply) => {
    for (let t = 0; t < batchSizes.length; t++) {
      const n = batchSizes[t]!;
      const row0 = offsets[t]!;
      // Row i continues row i of the previous step; at t = 0 the previous state is zero.
      const prev0 = t > 0 ? offsets[t - 1]! : 0;
      const cPrev = t > 0 ? c : zeroState;
      // gates = x W_ih^T + b (precomputed) + h_{t-1} W_hh^T, the sum taken inside the matmul
      if (t > 0) multiply(h, prev0 * H, n, gates, 0, xProj, row0 * G);
      else gates.set(xProj.subarray(row0 * G, (row0 + n) * G));
      // The whole cell in one WebAssembly SIMD pass where it runs (vector-math.ts, lstmCell).
      if (cell) {
        cell.lstmCell(gates, 0, act, row0 * G, t > 0 ? c : null, prev0 * H, c, h, row0 * H, n, H);
        continue;
      }
      // The activations in bulk (vector-math.ts): sigmoid over all four gates, then tanh over each g.
      applyVectorFunction('sigmoid', gates, act, n * G, 0, row0 * G);
      for (let i = 0; i < n; i++) applyVectorFunction('tanh', gates, act, H, i * G + 2 * H, (row0 + i) * G + 2 * H);
      for (let i = 0; i < n; i++) {
        const gx = (row0 + i) * G;
        const s = (row0 + i) * H;
        const sPrev = (prev0 + i) * H;
        for (let j = 0; j < H; j++) c[s + j] = act[gx + H + j]! * cPrev[sPrev + j]! + act[gx + j]! * act[gx + 2 * H + j]!;
      }
      applyVectorFunction('tanh', c, tanhCell, n * H, row0 * H, 0);
      for (let i = 0; i < n; i++) {
        const gx = (row0 + i) * G + 3 * H;
        const s = (row0 + i) * H;
        for (let j = 0; j < H; j++) h[s + j] = act[gx + j]! * tanhCell[i * H + j]!;
      }
    }
  });
  return { h, c, act };
}

/**
 * Backpropagation through time, last step first. dh and dc flowing back from step t+1 cover
 * only its rows (a prefix of step t's). The gate gradients are dxProj; dW_hh = sum over
 * t >= 1 of dGates_t^T h_{t-1}, summed in one matmul at the end rather than one per step.
 */
export function lstmBackward(dh: Float32Array, weightHH: Float32Array, h: Float32Array, c: Float32Array, act: Float32Array, batchSizes: readonly number[], H: number) {
  const G = 4 * H;
  const T = batchSizes.length;
  const offsets = stepOffsets(batchSizes);
  const N = offsets[T]!;
  const dxProj = allocF32(N * G, true);
  const widest = batchSizes[0] ?? 0;
  const dhCarry = new Float32Array(widest * H); // dGates_{t+1} W_hh for step t+1's rows
  const dcCarry = new Float32Array(widest * H);
  const tanhCell = new Float32Array(widest * H);
  const cell = H % 4 === 0 ? vectorMath() : null;
  withFixedRightOperand(weightHH, G, H, false, widest, (multiply) => {
    let carried = 0; // rows of step t+1
    for (let t = T - 1; t >= 0; t--) {
      const n = batchSizes[t]!;
      const row0 = offsets[t]!;
      const prev0 = t > 0 ? offsets[t - 1]! : 0;
      if (cell) {
        // Rows past step t+1's carry nothing; then the whole step in one WebAssembly SIMD pass.
        dhCarry.fill(0, carried * H, n * H);
        dcCarry.fill(0, carried * H, n * H);
        cell.lstmCellBackward(act, c, t > 0 ? c : null, prev0 * H, dh, dhCarry, dcCarry, dxProj, row0 * G, row0 * H, n, H);
        if (t > 0) multiply(dxProj, row0 * G, n, dhCarry, 0);
        carried = n;
        continue;
      }
      applyVectorFunction('tanh', c, tanhCell, n * H, row0 * H, 0);
      for (let i = 0; i < n; i++) {
        const gx = (row0 + i) * G;
        const s = (row0 + i) * H;
        const sPrev = (prev0 + i) * H;
        const carries = i < carried;
        for (let j = 0; j < H; j++) {
          const k = i * H + j;
          const dhTotal = dh[s + j]! + (carries ? dhCarry[k]! : 0);
          const inputGate = act[gx + j]!;
          const forgetGate = act[gx + H + j]!;
          const candidate = act[gx + 2 * H + j]!;
          const outputGate = act[gx + 3 * H + j]!;
          const tc = tanhCell[k]!;
          const dcTotal = (carries ? dcCarry[k]! : 0) + dhTotal * outputGate * (1 - tc * tc);
          const cPrev = t > 0 ? c[sPrev + j]! : 0;
          dxProj[gx + j] = dcTotal * candidate * inputGate * (1 - inputGate);
          dxProj[gx + H + j] = dcTotal * cPrev * forgetGate * (1 - forgetGate);
          dxProj[gx + 2 * H + j] = dcTotal * inputGate * (1 - candidate * candidate);
          dxProj[gx + 3 * H + j] = dhTotal * tc * outputGate * (1 - outputGate);
          dcCarry[k] = dcTotal * forgetGate;
        }
      }
      if (t > 0) multiply(dxProj, row0 * G, n, dhCarry, 0);
      carried = n;
    }
  });
  // dW_hh [G, H] = dGates^T [G, K] x hPrev [K, H] over the K rows of steps 1..T-1.
  const first = batchSizes[0] ?? 0;
  const K = N - first;
  if (K === 0) return { dxProj, dWeightHH: new Float32Array(G * H) };
  const hPrev = allocF32(K * H, true);
  for (let t = 1; t < T; t++) hPrev.set(h.subarray(offsets[t - 1]! * H, (offsets[t - 1]! + batchSizes[t]!) * H), (offsets[t]! - first) * H);
  const dWeightHH = matmul(dxProj.subarray(first * G), hPrev, { batch: 1, m: G, k: K, n: H, transA: true, transB: false, batchStrideA: 0, batchStrideB: 0 });
  releaseF32(hPrev);
  return { dxProj, dWeightHH };
}
