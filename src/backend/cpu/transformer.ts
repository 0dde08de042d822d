// CPU kernels of the transformer ops ModernBERT adds (src/ops/transformer.ts): the rotary position
// embedding, the sliding-window attention bias, and the GeGLU gate with its gradient.
// Shape legend: S = positions, D = head size (even), I = GeGLU width, B = batch.

import type { RotaryLayout } from '../backend.js';
import { erf } from '../../ops/tables/unary.js';
import { allocF32 } from './pool.js';

/**
 * Rotary embedding in Hugging Face's rotate_half layout (GPT-NeoX): x is [outer, S, inner, D]; for
 * i < D/2 the pair (x_i, x_{i + D/2}) at position s is turned by the angle whose cosine and sine are
 * cos[s, i] and sin[s, i]. `inverse` turns it back (the backward pass: the transpose of a rotation).
 */
export function rotary(x: Float32Array, cos: Float32Array, sin: Float32Array, layout: RotaryLayout, inverse: boolean): Float32Array {
  const { outer, length, inner, dim } = layout;
  const half = dim / 2;
  const y = allocF32(x.length, true);
  const sign = inverse ? -1 : 1;
  for (let o = 0; o < outer; o++) {
    for (let s = 0; s < length; s++) {
      for (let n = 0; n < inner; n++) {
        const base = ((o * length + s) * inner + n) * dim;
        for (let i = 0; i < half; i++) {
          const c = cos[s * half + i]!;
          const sn = sign * sin[s * half + i]!;
          const a = x[base + i]!;
          const b = x[base + i + half]!;
          y[base + i] = a * c - b * sn;
          y[base + i + half] = b * c + a * sn;
        }
      }
    }
  }
  return y;
}

/**
 * Additive attention bias [B, S, S] of sliding-window attention, as HF ModernBERT's
 * _update_attention_mask: 0 where key j is real (mask[b, j] = 1) and |i - j| <= halfWindow,
 * `masked` (finfo.min) elsewhere.
 */
export function windowBias(mask: Float32Array, batch: number, length: number, halfWindow: number, masked: number): Float32Array {
  const bias = allocF32(batch * length * length, true);
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < length; i++) {
      const row = (b * length + i) * length;
      for (let j = 0; j < length; j++) bias[row + j] = mask[b * length + j] === 1 && Math.abs(i - j) <= halfWindow ? 0 : masked;
    }
  }
  return bias;
}

const gelu = (v: number): number => 0.5 * v * (1 + erf(v * Math.SQRT1_2));
const geluGrad = (v: number): number => 0.5 * (1 + erf(v * Math.SQRT1_2)) + (v * Math.exp(-0.5 * v * v)) / Math.sqrt(2 * Math.PI);

/** GeGLU: x [rows, 2I] = [input | gate] -> gelu(input) * gate [rows, I] (exact erf GELU). */
export function geglu(x: Float32Array, rows: number, width: number): Float32Array {
  const y = allocF32(rows * width, true);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < width; i++) y[r * width + i] = gelu(x[r * 2 * width + i]!) * x[r * 2 * width + width + i]!;
  }
  return y;
}

/** GeGLU's gradient: dinput = dy * gate * gelu'(input), dgate = dy * gelu(input); dx [rows, 2I]. */
export function gegluBackward(dy: Float32Array, x: Float32Array, rows: number, width: number): Float32Array {
  const dx = allocF32(rows * 2 * width, true);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < width; i++) {
      const input = x[r * 2 * width + i]!;
      const gate = x[r * 2 * width + width + i]!;
      const g = dy[r * width + i]!;
      dx[r * 2 * width + i] = g * gate * geluGrad(input);
      dx[r * 2 * width + width + i] = g * gelu(input);
    }
  }
  return dx;
}
