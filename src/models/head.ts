// The tagging head, a switch: 'softmax' (independent per-word cross-entropy, argmax decoding)
// or 'crf' (linear-chain CRF NLL, Viterbi decoding). Both read emissions [B, T, C] over words.
// B = batch, T = words, C = tags

import { tensor, type Tensor } from '../tensor/tensor.js';
import { noGrad } from '../autograd/grad-mode.js';
import { argmax, crossEntropy, reshape } from '../ops/index.js';
import { requireHost } from '../nn/host.js';
import type { CRF } from '../crf/crf.js';

export type HeadKind = 'softmax' | 'crf';

/** Mean loss over the batch: CRF NLL per sentence, or cross-entropy per real word. */
export function headLoss(kind: HeadKind, crf: CRF | null, emissions: Tensor, tags: Tensor, wordMask: Tensor, lengths: readonly number[], who: string): Tensor {
  const [B, T, C] = emissions.shape as [number, number, number];
  if (kind === 'crf') {
    if (!crf) throw new Error(`${who}: head 'crf' without a CRF layer`);
    return crf.nll(emissions, tags, wordMask, { reduction: 'mean' });
  }
  // Padded words get torch's ignore_index, so 'mean' averages over real words only.
  const gold = requireHost(tags, who, 'tags');
  const targets = new Int32Array(B * T).fill(-100);
  lengths.forEach((n, b) => targets.set(gold.subarray(b * T, b * T + n), b * T));
  return crossEntropy(reshape(emissions, [B * T, C]), tensor(targets, [B * T], { dtype: 'i32', backend: emissions.backend }));
}

/** Best tag sequence per sentence, trimmed to its length. */
export async function headDecode(kind: HeadKind, crf: CRF | null, emissions: Tensor, wordMask: Tensor, lengths: readonly number[]): Promise<number[][]> {
  if (kind === 'crf' && crf) return (await crf.decode(emissions, wordMask)).paths;
  const T = emissions.shape[1]!;
  const best = noGrad(() => argmax(emissions, -1));
  try {
    const values = await best.data();
    return lengths.map((n, b) => Array.from(values.subarray(b * T, b * T + n)));
  } finally {
    best.dispose();
  }
}
