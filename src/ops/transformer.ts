// The transformer ops ModernBERT adds, forward and backward side by side: the rotary position
// embedding, the sliding-window attention bias and the GeGLU gate (kernels/rotary.wgsl,
// kernels/window_bias.wgsl, kernels/geglu.wgsl; src/backend/cpu/transformer.ts).
// Shape legend: B = batch, S = positions, D = head size, I = GeGLU width.

import { Tensor } from '../tensor/tensor.js';
import { fmt } from '../tensor/shape.js';
import { record } from '../autograd/backward.js';
import { checkFloat, out } from './util.js';

/**
 * Rotary position embedding as Hugging Face applies it (rotate_half, the GPT-NeoX layout):
 * x * cos + rotate_half(x) * sin, where cos and sin [S, D/2] hold the angles of the first half
 * (HF's table repeats them for the second). `axis` is x's position axis; the last axis is D.
 * The tables are constants (no gradient); dx is the inverse rotation of the upstream gradient.
 */
export function rotary(x: Tensor, cos: Tensor, sin: Tensor, axis: number): Tensor {
  checkFloat('rotary', x, cos, sin);
  const rank = x.rank;
  const dim = x.shape[rank - 1]!;
  if (axis < 0) axis += rank;
  if (axis < 0 || axis >= rank - 1) throw new Error(`rotary: position axis ${axis} must come before the last axis of x ${fmt(x.shape)}`);
  if (dim % 2 !== 0) throw new Error(`rotary: the last axis of x ${fmt(x.shape)} must be even`);
  const length = x.shape[axis]!;
  if (cos.rank !== 2 || cos.shape[0] !== length || cos.shape[1] !== dim / 2 || sin.rank !== 2 || sin.shape[0] !== length || sin.shape[1] !== dim / 2) {
    throw new Error(`rotary: cos ${fmt(cos.shape)} and sin ${fmt(sin.shape)} must be [${length}, ${dim / 2}] for x ${fmt(x.shape)} with positions on axis ${axis}`);
  }
  const outer = x.shape.slice(0, axis).reduce((n, d) => n * d, 1);
  const inner = x.shape.slice(axis + 1, rank - 1).reduce((n, d) => n * d, 1);
  const layout = { outer, length, inner, dim };
  const y = out(x.backend.rotary(x.storage, cos.storage, sin.storage, layout, false), x.shape, x);
  return record(y, 'rotary', [x], (g) => [out(x.backend.rotary(g.storage, cos.storage, sin.storage, layout, true), x.shape, x)]);
}

/**
 * The additive bias [B, 1, S, S] of sliding-window attention from a 0/1 attention mask [B, S]:
 * 0 where key j is real and |i - j| <= halfWindow, `masked` elsewhere (HF ModernBERT's
 * sliding_window_mask, with local_attention = 2 * halfWindow). A mask, not a differentiable value.
 */
export function slidingWindowBias(attentionMask: Tensor, halfWindow: number, masked: number): Tensor {
  checkFloat('slidingWindowBias', attentionMask);
  if (attentionMask.rank !== 2) throw new Error(`slidingWindowBias: attentionMask must be [B, S], got ${fmt(attentionMask.shape)}`);
  if (!Number.isInteger(halfWindow) || halfWindow < 0) throw new Error(`slidingWindowBias: halfWindow must be an integer >= 0, got ${halfWindow}`);
  const [batch, length] = attentionMask.shape as [number, number];
  return out(attentionMask.backend.windowBias(attentionMask.storage, batch, length, halfWindow, masked), [batch, 1, length, length], attentionMask);
}

/** GeGLU: x [..., 2I] split into input and gate halves -> gelu(input) * gate [..., I] (exact erf GELU, HF's "gelu"). */
export function geglu(x: Tensor): Tensor {
  checkFloat('geglu', x);
  const last = x.shape[x.rank - 1]!;
  if (x.rank === 0 || last % 2 !== 0) throw new Error(`geglu: the last axis of x ${fmt(x.shape)} must be even (input and gate halves)`);
  const width = last / 2;
  const rows = x.size / last;
  const shape = [...x.shape.slice(0, -1), width];
  const y = out(x.backend.geglu(x.storage, rows, width), shape, x);
  return record(y, 'geglu', [x], (g) => [out(x.backend.gegluBackward(g.storage, x.storage, rows, width), x.shape, x)]);
}
