// Character-level word features (Ma & Hovy 2016): embed each character, slide a 1-D
// convolution over the word, take the max over positions. The convolution is an unfold
// (one indexSelect of every window) and one matmul; weights in torch.nn.Conv1d's layout.
// Where the char ids are on the host (the CPU backend), the convolution is a table lookup
// instead: it is linear in the embeddings, so each (char, kernel tap) pair has one fixed
// F-vector, E x W_k; a window is the sum of K rows of that [numChars * K, F] table. That
// replaces the embedding gather, the unfold and a K*E-deep matmul (and their gradients) per
// character by one gather and a K-term sum (measured: bench/cli-vs-torch.ts, README).
// B = batch, T = tokens (words), L = characters per word, E = char embedding, F = filters, K = kernel width

import { tensor, zeros, type Tensor } from '../tensor/tensor.js';
import { fmt } from '../tensor/shape.js';
import { tidy } from '../tensor/scope.js';
import { add, concat, indexSelect, matmul, max, permute, reshape, sum, tanh } from '../ops/index.js';
import { readHost } from './host.js';
import { isGradEnabled } from '../autograd/grad-mode.js';
import { Module } from './module.js';
import { Embedding } from './linear.js';
import { torchDefaultUniform } from './init.js';

export interface CharCnnOptions {
  numChars: number;
  charDim?: number; // E, default 30 as Ma & Hovy
  filters?: number; // F, default 30
  kernelSize?: number; // K, odd, default 3
  /** Char id of padding inside a word (its embedding starts at 0). Default 0. */
  paddingIdx?: number;
}

/** Conv1d parameters named as torch (`weight` [F, E, K], `bias` [F]) so a state dict maps one to one. */
class Conv1dParams extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;
  constructor(inChannels: number, outChannels: number, kernelSize: number) {
    super();
    const fanIn = inChannels * kernelSize;
    this.weight = this.param('weight', torchDefaultUniform([outChannels, inChannels, kernelSize], fanIn));
    this.bias = this.param('bias', torchDefaultUniform([outChannels], fanIn));
  }
}

export class CharCNN extends Module {
  readonly embedding: Embedding;
  readonly conv: Conv1dParams;
  readonly charDim: number;
  readonly filters: number;
  readonly kernelSize: number;

  constructor(readonly options: CharCnnOptions) {
    super();
    this.charDim = options.charDim ?? 30;
    this.filters = options.filters ?? 30;
    this.kernelSize = options.kernelSize ?? 3;
    if (this.kernelSize % 2 !== 1) throw new Error(`CharCNN: kernelSize must be odd (same padding), got ${this.kernelSize}`);
    // Variance 1/E, the same as Ma & Hovy's uniform(-sqrt(3/E), sqrt(3/E)).
    this.embedding = this.child('embedding', new Embedding(options.numChars, this.charDim, { initStd: Math.sqrt(1 / this.charDim), paddingIdx: options.paddingIdx ?? 0 }));
    this.conv = this.child('conv', new Conv1dParams(this.charDim, this.filters, this.kernelSize));
  }

  get outputSize(): number {
    return this.filters;
  }

  /** charIds i32 [B, T, L] -> word features [B, T, F]. */
  forward(charIds: Tensor): Tensor {
    if (charIds.rank !== 3 || charIds.dtype !== 'i32') throw new Error(`CharCNN: charIds must be i32 [B, T, L], got ${charIds.dtype} ${fmt(charIds.shape)}`);
    const [B, T, L] = charIds.shape as [number, number, number];
    const E = this.charDim;
    const K = this.kernelSize;
    const pad = (K - 1) / 2;
    this.embedding.checkIds(charIds, 'CharCNN.embedding');
    const ids = readHost(charIds);
    if (!ids) return this.forwardByUnfold(charIds);
    return isGradEnabled() ? this.forwardByTable(ids as Int32Array, B, T, L, charIds) : this.inferByTable(ids as Int32Array, B, T, L, charIds);
  }

  /** The convolution as unfold + matmul: the path for ids that live on a GPU. */
  forwardByUnfold(charIds: Tensor): Tensor {
    const [B, T, L] = charIds.shape as [number, number, number];
    const E = this.charDim;
    const K = this.kernelSize;
    const pad = (K - 1) / 2;
    let chars = reshape(this.embedding.forward(charIds, 'CharCNN.embedding'), [B * T, L, E]);
    if (pad > 0) {
      const border = zeros([B * T, pad, E], { backend: charIds.backend });
      chars = concat([border, chars, border], 1); // [BT, L + 2 pad, E]
    }
    // Unfold: window p covers padded positions p..p+K-1.
    const windows = tensor(Int32Array.from({ length: L * K }, (_, i) => Math.floor(i / K) + (i % K)), [L, K], { dtype: 'i32', backend: charIds.backend });
    const unfolded = reshape(indexSelect(chars, 1, windows), [B * T, L, K * E]); // [BT, L, K, E] flattened
    // torch's [F, E, K] as [F, K*E] in the unfolded (K, E) order.
    const kernel = reshape(permute(this.conv.weight, [0, 2, 1]), [this.filters, K * E]);
    const convolved = matmul(unfolded, kernel, { transB: true }); // [BT, L, F]
    // max over positions before bias and tanh: both are monotonic and the bias is the same at
    // every position, so max(tanh(x + b)) = tanh(max(x) + b), forward and gradient, with L times
    // fewer tanh evaluations (they were a fifth of a BiLSTM-CRF training step).
    return reshape(tanh(add(max(convolved, 1), this.conv.bias)), [B, T, this.filters]);
  }

  /** The same convolution as a lookup: window p of a word = sum over taps k of table[id(p + k - pad) * K + k]. */
  private forwardByTable(ids: Int32Array, B: number, T: number, L: number, like: Tensor): Tensor {
    const K = this.kernelSize;
    const F = this.filters;
    const pad = (K - 1) / 2;
    const C = this.embedding.numEmbeddings;
    // table [C, K*F]: column k*F + f = embedding(c) . weight[f, :, k]; as [C*K, F], row c*K + k.
    const taps = reshape(permute(this.conv.weight, [2, 0, 1]), [K * F, this.charDim]);
    const table = reshape(matmul(this.embedding.weight, taps, { transB: true }), [C * K, F]);
    // One more row of zeros for the taps that fall outside the word (the convolution's zero padding).
    const border = C * K;
    const withBorder = concat([table, zerosLike(F, like)], 0);
    // Rows in [K, L, BT] order, so the sum over taps and the max over positions both reduce a
    // leading axis: the reductions and their gradients' broadcasts then run over whole rows
    // (a middle axis takes the strided path, a third of the step's time here before).
    const words = B * T;
    const rows = new Int32Array(K * L * words);
    for (let k = 0, r = 0; k < K; k++) {
      for (let p = 0; p < L; p++) {
        const q = p + k - pad;
        for (let w = 0; w < words; w++, r++) rows[r] = q >= 0 && q < L ? ids[w * L + q]! * K + k : border;
      }
    }
    const gathered = indexSelect(withBorder, 0, tensor(rows, [K, L * words], { dtype: 'i32', backend: like.backend })); // [K, L*BT, F]
    const convolved = reshape(sum(gathered, 0), [L, words, F]);
    return reshape(tanh(add(max(convolved, 0), this.conv.bias)), [B, T, F]);
  }

  /**
   * forwardByTable without a graph (inference, dev scoring): the same window sums and max over
   * positions, word by word on the host, instead of gathering [K, L*BT, F] rows (the padded width L
   * is the batch's longest word, so most of them are padding) and reducing them in two more passes.
   * Bit for bit the same values: each window sums its taps in tap order rounded to f32 (a sum of two
   * f32 taken in double and rounded once is the f32 sum), and the max folds positions in order with
   * the max kernel's rule (greater, or NaN, replaces). Windows past a word's last char see only
   * padding (id 0) and the border, the same for every word: their fold is taken once per call, from
   * each position to the end, and that fold combines with the word's own by the same rule.
   */
  private inferByTable(ids: Int32Array, B: number, T: number, L: number, like: Tensor): Tensor {
    const K = this.kernelSize;
    const F = this.filters;
    const pad = (K - 1) / 2;
    const C = this.embedding.numEmbeddings;
    // [C*K + 1, F]: row c*K + k as forwardByTable's table, then a zero row for the taps outside the word.
    const table = new Float32Array((C * K + 1) * F);
    tidy(() => table.set(readHost(matmul(this.embedding.weight, reshape(permute(this.conv.weight, [2, 0, 1]), [K * F, this.charDim]), { transB: true }))!));
    const border = C * K * F;
    const rows = new Int32Array(K);
    // Window p of a word (row offsets of its taps into `table`), summed and folded into y[at..at+F).
    const fold = (word: number, p: number, y: Float32Array, at: number, first: boolean) => {
      for (let k = 0; k < K; k++) {
        const q = p + k - pad;
        rows[k] = q < 0 || q >= L ? border : ((word < 0 ? 0 : ids[word * L + q]!) * K + k) * F;
      }
      if (K === 3) {
        // The usual width, unrolled: this loop is most of the layer's time.
        const r0 = rows[0]!, r1 = rows[1]!, r2 = rows[2]!;
        for (let f = 0; f < F; f++) {
          const v = Math.fround(Math.fround(table[r0 + f]! + table[r1 + f]!) + table[r2 + f]!);
          if (first || v > y[at + f]! || v !== v) y[at + f] = v;
        }
        return;
      }
      for (let f = 0; f < F; f++) {
        let v = table[rows[0]! + f]!;
        for (let k = 1; k < K; k++) v = Math.fround(v + table[rows[k]! + f]!);
        if (first || v > y[at + f]! || v !== v) y[at + f] = v;
      }
    };
    // paddingFolds[p] = the fold of the all-padding windows p..L-1 (word -1 reads id 0 everywhere).
    const paddingFolds = new Float32Array(L * F);
    for (let p = L - 1; p >= 0; p--) {
      if (p < L - 1) paddingFolds.copyWithin(p * F, (p + 1) * F, (p + 2) * F);
      const base = new Float32Array(F);
      fold(-1, p, base, 0, true);
      // The fold from p is window p, then the rest folded in order: combine window p with the fold from p + 1.
      for (let f = 0; f < F; f++) {
        const rest = paddingFolds[p * F + f]!;
        paddingFolds[p * F + f] = p === L - 1 ? base[f]! : rest > base[f]! || rest !== rest ? rest : base[f]!;
      }
    }
    const words = B * T;
    const maxed = new Float32Array(words * F);
    for (let w = 0; w < words; w++) {
      let last = L - 1;
      while (last >= 0 && ids[w * L + last] === 0) last--;
      const own = Math.min(L, last + pad + 1); // windows 0..own-1 touch a char of the word
      const y = w * F;
      for (let p = 0; p < own; p++) fold(w, p, maxed, y, p === 0);
      if (own === 0) maxed.set(paddingFolds.subarray(0, F), y);
      else if (own < L) {
        for (let f = 0; f < F; f++) {
          const v = paddingFolds[own * F + f]!;
          if (v > maxed[y + f]! || v !== v) maxed[y + f] = v;
        }
      }
    }
    return reshape(tanh(add(tensor(maxed, [words, F], { backend: like.backend }), this.conv.bias)), [B, T, F]);
  }
}

const zerosLike = (width: number, like: Tensor): Tensor => zeros([1, width], { backend: like.backend });
