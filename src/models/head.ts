// The tagging head, a switch: 'softmax' (independent per-word cross-entropy, argmax decoding)
// or 'crf' (linear-chain CRF NLL, Viterbi decoding). Both read emissions [B, T, C] over words.
// B = batch, T = words, C = tags

import { tensor, type Tensor } from '../tensor/tensor.js';
import { noGrad } from '../autograd/grad-mode.js';
import { argmax, crossEntropy, reshape } from '../ops/index.js';
import type { CrfVariant } from '../crf/variant.js';

export type HeadKind = 'softmax' | 'crf';

/** The [B, T] mask of the given lengths as host rows: what the CRF takes without reading a tensor back. */
export function maskRows(lengths: readonly number[], T: number): Float32Array[] {
  return lengths.map((n) => new Float32Array(T).fill(1, 0, n));
}

/**
 * Mean loss over the batch: CRF NLL per sentence, or cross-entropy per real word. The gold
 * tags [B*T] and the lengths come from the host (checkWords), so no backend reads anything back.
 */
export function headLoss(kind: HeadKind, crf: CrfVariant | null, emissions: Tensor, gold: Int32Array, lengths: readonly number[], who: string, classWeights: Tensor | null = null): Tensor {
  const [B, T, C] = emissions.shape as [number, number, number];
  if (gold.length !== B * T) throw new Error(`${who}: ${gold.length} gold tags for emissions ${`[${B}, ${T}, ${C}]`}`);
  if (kind === 'crf') {
    if (!crf) throw new Error(`${who}: head 'crf' without a CRF layer`);
    if (classWeights) throw new Error(`${who}: class weights apply to the softmax head; a CRF scores whole sequences`);
    const rows = lengths.map((_, b) => gold.subarray(b * T, (b + 1) * T));
    return crf.nll(emissions, rows, maskRows(lengths, T), { reduction: 'mean' });
  }
  // Padded words get torch's ignore_index, so 'mean' averages over real words only.
  const targets = new Int32Array(B * T).fill(-100);
  lengths.forEach((n, b) => targets.set(gold.subarray(b * T, b * T + n), b * T));
  return crossEntropy(reshape(emissions, [B * T, C]), tensor(targets, [B * T], { dtype: 'i32', backend: emissions.backend }), { weight: classWeights ?? undefined });
}

/** Best tag sequence per sentence, trimmed to its length. */
export async function headDecode(kind: HeadKind, crf: CrfVariant | null, emissions: Tensor, lengths: readonly number[]): Promise<number[][]> {
  const T = emissions.shape[1]!;
  if (kind === 'crf' && crf) return (await crf.decode(emissions, maskRows(lengths, T))).paths;
  const best = noGrad(() => argmax(emissions, -1));
  try {
    const values = await best.data();
    return lengths.map((n, b) => Array.from(values.subarray(b * T, b * T + n)));
  } finally {
    best.dispose();
  }
}
