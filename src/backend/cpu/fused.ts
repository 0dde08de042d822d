// CPU kernels for the fused ops (layer_norm, cross-entropy, dropout mask),
// embedding gather / scatter-add and the AdamW update.
// Shape legend: N = rows, D = features, C = classes, B = batch, H = hidden.

import type { AdamWParams, AxisLayout } from '../backend.js';
import { hash32 } from '../../tensor/random.js';
import { allocF32 } from './pool.js';
import { vectorMath } from './wasm/vector-math.js';

export function layerNorm(x: Float32Array, gamma: Float32Array, beta: Float32Array, rows: number, dim: number, eps: number) {
  const y = allocF32(rows * dim, true);
  const mean = new Float32Array(rows);
  const rstd = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const base = r * dim;
    let mu = 0;
    for (let d = 0; d < dim; d++) mu += x[base + d]!;
    mu /= dim;
    let variance = 0;
    for (let d = 0; d < dim; d++) variance += (x[base + d]! - mu) ** 2;
    const inv = 1 / Math.sqrt(variance / dim + eps);
    mean[r] = mu;
    rstd[r] = inv;
    for (let d = 0; d < dim; d++) y[base + d] = (x[base + d]! - mu) * inv * gamma[d]! + beta[d]!;
  }
  return { y, mean, rstd };
}

/** dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)), dxhat = dy * gamma. */
export function layerNormBackward(dy: Float32Array, x: Float32Array, gamma: Float32Array, mean: Float32Array, rstd: Float32Array, rows: number, dim: number) {
  const dx = allocF32(rows * dim, true);
  const dgamma = new Float32Array(dim);
  const dbeta = new Float32Array(dim);
  for (let r = 0; r < rows; r++) {
    const base = r * dim;
    const mu = mean[r]!;
    const inv = rstd[r]!;
    let meanDxhat = 0;
    let meanDxhatXhat = 0;
    for (let d = 0; d < dim; d++) {
      const xhat = (x[base + d]! - mu) * inv;
      const dxhat = dy[base + d]! * gamma[d]!;
      meanDxhat += dxhat;
      meanDxhatXhat += dxhat * xhat;
      dgamma[d]! += dy[base + d]! * xhat;
      dbeta[d]! += dy[base + d]!;
    }
    meanDxhat /= dim;
    meanDxhatXhat /= dim;
    for (let d = 0; d < dim; d++) {
      const xhat = (x[base + d]! - mu) * inv;
      dx[base + d] = inv * (dy[base + d]! * gamma[d]! - meanDxhat - xhat * meanDxhatXhat);
    }
  }
  return { dx, dgamma, dbeta };
}

function rowLogSumExp(logits: Float32Array, base: number, classes: number): number {
  let max = -Infinity;
  for (let c = 0; c < classes; c++) max = Math.max(max, logits[base + c]!);
  let total = 0;
  for (let c = 0; c < classes; c++) total += Math.exp(logits[base + c]! - max);
  return max + Math.log(total);
}

function checkTarget(target: number, row: number, classes: number): void {
  if (!Number.isInteger(target) || target < 0 || target >= classes) {
    throw new Error(`crossEntropy: target ${target} at row ${row} is outside [0, ${classes})`);
  }
}

export function crossEntropy(logits: Float32Array, targets: Int32Array, weights: Float32Array | null, rows: number, classes: number, ignoreIndex: number) {
  const loss = new Float32Array(rows);
  const weight = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const t = targets[r]!;
    if (t === ignoreIndex) continue;
    checkTarget(t, r, classes);
    const w = weights ? weights[t]! : 1;
    loss[r] = w * (rowLogSumExp(logits, r * classes, classes) - logits[r * classes + t]!);
    weight[r] = w;
  }
  return { loss, weight };
}

export function crossEntropyBackward(logits: Float32Array, targets: Int32Array, weights: Float32Array | null, dloss: Float32Array, rows: number, classes: number, ignoreIndex: number): Float32Array {
  const dlogits = allocF32(rows * classes);
  for (let r = 0; r < rows; r++) {
    const t = targets[r]!;
    if (t === ignoreIndex) continue;
    const base = r * classes;
    const lse = rowLogSumExp(logits, base, classes);
    const scale = (weights ? weights[t]! : 1) * dloss[r]!;
    for (let c = 0; c < classes; c++) dlogits[base + c] = scale * (Math.exp(logits[base + c]! - lse) - (c === t ? 1 : 0));
  }
  return dlogits;
}

export function dropoutMask(size: number, p: number, seed: number): Float32Array {
  const mask = allocF32(size, true);
  const wasm = vectorMath();
  if (wasm) {
    wasm.dropoutMask(mask, p, seed);
    return mask;
  }
  const scale = 1 / (1 - p);
  // hashUniform(seed, i) >= p, with the seed's hash taken once and the compare in integers
  const key = hash32(seed >>> 0);
  const threshold = Math.ceil(p * 16777216);
  for (let i = 0; i < size; i++) mask[i] = hash32((i ^ key) >>> 0) >>> 8 >= threshold ? scale : 0;
  return mask;
}

type GatherLoop = (x: Float32Array | Int32Array, y: Float32Array | Int32Array, index: Int32Array, outer: number, axis: number, inner: number, count: number) => void;

/**
 * y[o, j, :] = x[o, index[j], :]. One compiled copy per element type: a loop that has seen both
 * Float32Array and Int32Array accesses every element through V8's slow polymorphic path (measured
 * 4-7 ns a float, against ~1).
 */
function gatherLoop(): GatherLoop {
  return new Function('x', 'y', 'index', 'outer', 'axis', 'inner', 'count', `
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < count; j++) {
        const src = (o * axis + index[j]) * inner;
        const dst = (o * count + j) * inner;
        if (inner >= 64) y.set(x.subarray(src, src + inner), dst);
        else for (let i = 0; i < inner; i++) y[dst + i] = x[src + i];
      }
    }`) as GatherLoop;
}
const gatherLoops = { f32: gatherLoop(), i32: gatherLoop() };

export function indexSelect(x: Float32Array | Int32Array, index: Int32Array, { outer, axis, inner }: AxisLayout, count: number): Float32Array | Int32Array {
  for (let j = 0; j < count; j++) {
    const row = index[j]!;
    if (row < 0 || row >= axis) throw new Error(`indexSelect: index ${row} at position ${j} is outside [0, ${axis})`);
  }
  if (x instanceof Int32Array) {
    const y = new Int32Array(outer * count * inner);
    gatherLoops.i32(x, y, index, outer, axis, inner, count);
    return y;
  }
  const y = allocF32(outer * count * inner, true);
  gatherLoops.f32(x, y, index, outer, axis, inner, count);
  return y;
}

export function indexAdd(grad: Float32Array, index: Int32Array, { outer, axis, inner }: AxisLayout, count: number): Float32Array {
  const y = allocF32(outer * axis * inner);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < count; j++) {
      const dst = (o * axis + index[j]!) * inner;
      const src = (o * count + j) * inner;
      for (let i = 0; i < inner; i++) y[dst + i]! += grad[src + i]!;
    }
  }
  return y;
}

/** AdamW as torch.optim.AdamW: decoupled decay p -= lr*wd*p, then the bias-corrected Adam step. */
export function adamw(param: Float32Array, grad: Float32Array, m: Float32Array, v: Float32Array, o: AdamWParams): void {
  // Constants in locals and each array element read and written once: the loop is memory-bound.
  const { lr, beta1, beta2, eps } = o;
  const decay = 1 - lr * o.weightDecay;
  const stepSize = lr / (1 - beta1 ** o.step);
  const rootCorrection2 = Math.sqrt(1 - beta2 ** o.step);
  const n = param.length;
  for (let i = 0; i < n; i++) {
    const g = grad[i]!;
    const mi = beta1 * m[i]! + (1 - beta1) * g;
    const vi = beta2 * v[i]! + (1 - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    // lr * m^ / (sqrt(v^) + eps) with m^ = m / c1, v^ = v / c2
    param[i] = param[i]! * decay - (stepSize * mi) / (Math.sqrt(vi) / rootCorrection2 + eps);
  }
}
