// Subword-to-word pooling: BERT sees WordPiece subwords, the tagger sees words. 'first' takes
// each word's first subword (Devlin et al.'s NER setup); 'mean' averages a word's subwords.
// B = batch, T = words, S = subwords, H = hidden

import { tensor, type Tensor } from '../tensor/tensor.js';
import { indexSelect, matmul, reshape } from '../ops/index.js';

export type WordPooling = 'first' | 'mean';

/** hidden [B, S, H] -> [B, T, H] taking subword starts[b, t]; padded words read subword 0 (masked later). */
export function firstSubwordPooling(hidden: Tensor, starts: Int32Array, lengths: readonly number[], T: number): Tensor {
  const [B, S, H] = hidden.shape as [number, number, number];
  const index = new Int32Array(B * T);
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) index[b * T + t] = b * S + (t < lengths[b]! ? starts[b * T + t]! : 0);
  const rows = indexSelect(reshape(hidden, [B * S, H]), 0, tensor(index, [B * T], { dtype: 'i32', backend: hidden.backend }));
  return reshape(rows, [B, T, H]);
}

/**
 * The subword span of every word: [starts, ends). Without explicit ends a word runs to the
 * next word's start, and the last word to the last attended subword before [SEP].
 */
export function wordSpans(starts: Int32Array, ends: Int32Array | null, lengths: readonly number[], subwordLengths: readonly number[], T: number, who: string): Int32Array {
  if (ends) return ends;
  const inferred = new Int32Array(starts.length);
  lengths.forEach((n, b) => {
    for (let t = 0; t < n; t++) {
      const end = t + 1 < n ? starts[b * T + t + 1]! : subwordLengths[b]! - 1;
      if (end <= starts[b * T + t]!) {
        throw new Error(`${who}: mean pooling cannot infer where word ${t} of sentence ${b} ends (starts ${starts[b * T + t]}, next boundary ${end}); pass wordEnds`);
      }
      inferred[b * T + t] = end;
    }
  });
  return inferred;
}

/** hidden [B, S, H] -> [B, T, H], each word the mean of its subwords: one batched matmul with a [B, T, S] averaging matrix. */
export function meanSubwordPooling(hidden: Tensor, starts: Int32Array, ends: Int32Array, lengths: readonly number[], T: number): Tensor {
  const [B, S] = hidden.shape as [number, number, number];
  const weights = new Float32Array(B * T * S);
  lengths.forEach((n, b) => {
    for (let t = 0; t < n; t++) {
      const [start, end] = [starts[b * T + t]!, ends[b * T + t]!];
      for (let s = start; s < end; s++) weights[(b * T + t) * S + s] = 1 / (end - start);
    }
  });
  return matmul(tensor(weights, [B, T, S], { backend: hidden.backend }), hidden);
}
