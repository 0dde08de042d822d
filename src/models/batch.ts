// The batch every tagger takes, and its checks: shapes, dtypes, masks that are a prefix of
// ones starting on, tags inside the label set, word starts that point at attended subwords.
// Errors name the model, the field, and the row and position that is wrong.
// B = batch, T = words, S = subwords, L = characters per word

import type { Tensor } from '../tensor/tensor.js';
import { fmt } from '../tensor/shape.js';
import { lengthsFromMask, requireHost } from '../nn/host.js';

export interface NerBatch {
  /** Word ids i32 [B, T] (BiLSTM-CRF). */
  wordIds?: Tensor;
  /** Character ids i32 [B, T, L] (char-CNN features). */
  charIds?: Tensor;
  /** Subword (WordPiece) ids i32 [B, S] (BERT models). */
  subwordIds?: Tensor;
  /** f32 [B, S], 1 = real subword ([CLS] ... [SEP]), 0 = padding. */
  attentionMask?: Tensor;
  /** Segment ids i32 [B, S]; all 0 when absent. */
  tokenTypeIds?: Tensor;
  /** Index of the first subword of each word, i32 [B, T]. */
  wordStarts?: Tensor;
  /** One past the last subword of each word, i32 [B, T] (mean pooling; inferred when absent). */
  wordEnds?: Tensor;
  /** f32 [B, T], 1 = real word; a prefix of ones, first position on. */
  wordMask: Tensor;
  /** Gold tags i32 [B, T] in [0, numTags) on real words (loss only). */
  tags?: Tensor;
  /** Words per sentence, when the caller has them on the host (saves a readback on WebGPU). */
  lengths?: number[];
}

export function requireField<K extends keyof NerBatch>(who: string, batch: NerBatch, key: K): NonNullable<NerBatch[K]> {
  const value = batch[key];
  if (value === undefined || value === null) throw new Error(`${who}: the batch has no ${String(key)}; this model needs it`);
  return value as NonNullable<NerBatch[K]>;
}

function checkShape(who: string, name: string, t: Tensor, dtype: 'f32' | 'i32', shape: (number | null)[]): void {
  const ok = t.rank === shape.length && shape.every((d, i) => d === null || d === t.shape[i]);
  if (!ok || t.dtype !== dtype) {
    const want = `[${shape.map((d, i) => d ?? ['B', 'T', 'L'][i] ?? '?').join(', ')}]`;
    throw new Error(`${who}: ${name} must be ${dtype} ${want}, got ${t.dtype} ${fmt(t.shape)}`);
  }
}

/** Checks the word-level fields; returns [B, T] and the sentence lengths. */
export function checkWords(who: string, batch: NerBatch, numTags: number | null): { B: number; T: number; lengths: number[] } {
  const mask = batch.wordMask;
  if (!mask) throw new Error(`${who}: the batch has no wordMask`);
  if (mask.rank !== 2 || mask.dtype !== 'f32') throw new Error(`${who}: wordMask must be f32 [B, T], got ${mask.dtype} ${fmt(mask.shape)}`);
  const [B, T] = mask.shape as [number, number];
  let lengths: number[];
  if (batch.lengths) {
    lengths = batch.lengths;
    if (lengths.length !== B) throw new Error(`${who}: ${lengths.length} lengths for a batch of ${B}`);
    lengths.forEach((n, b) => {
      if (!Number.isInteger(n) || n < 1 || n > T) throw new Error(`${who}: lengths[${b}] is ${n}, outside 1..${T}`);
    });
  } else {
    lengths = lengthsFromMask(requireHost(mask, who, 'wordMask'), B, T, `${who}: wordMask`);
  }
  if (batch.wordIds) checkShape(who, 'wordIds', batch.wordIds, 'i32', [B, T]);
  if (batch.charIds) checkShape(who, 'charIds', batch.charIds, 'i32', [B, T, null]);
  if (batch.tags && numTags !== null) {
    checkShape(who, 'tags', batch.tags, 'i32', [B, T]);
    const tags = requireHost(batch.tags, who, 'tags');
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < lengths[b]!; t++) {
        const tag = tags[b * T + t]!;
        if (tag < 0 || tag >= numTags) throw new Error(`${who}: tags[${b}][${t}] is ${tag}, outside the label set [0, ${numTags})`);
      }
    }
  }
  return { B, T, lengths };
}

/** Checks the subword fields against the words; returns S and each word's subword span. */
export function checkSubwords(who: string, batch: NerBatch, B: number, T: number, lengths: number[]): { S: number; starts: Int32Array; ends: Int32Array | null; subwordLengths: number[] } {
  const ids = requireField(who, batch, 'subwordIds');
  if (ids.rank !== 2 || ids.dtype !== 'i32' || ids.shape[0] !== B) throw new Error(`${who}: subwordIds must be i32 [${B}, S], got ${ids.dtype} ${fmt(ids.shape)}`);
  const S = ids.shape[1]!;
  let subwordLengths = new Array<number>(B).fill(S);
  if (batch.attentionMask) {
    checkShape(who, 'attentionMask', batch.attentionMask, 'f32', [B, S]);
    subwordLengths = lengthsFromMask(requireHost(batch.attentionMask, who, 'attentionMask'), B, S, `${who}: attentionMask`);
  }
  if (batch.tokenTypeIds) checkShape(who, 'tokenTypeIds', batch.tokenTypeIds, 'i32', [B, S]);
  const startsTensor = requireField(who, batch, 'wordStarts');
  checkShape(who, 'wordStarts', startsTensor, 'i32', [B, T]);
  const starts = Int32Array.from(requireHost(startsTensor, who, 'wordStarts'));
  let ends: Int32Array | null = null;
  if (batch.wordEnds) {
    checkShape(who, 'wordEnds', batch.wordEnds, 'i32', [B, T]);
    ends = Int32Array.from(requireHost(batch.wordEnds, who, 'wordEnds'));
  }
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < lengths[b]!; t++) {
      const start = starts[b * T + t]!;
      if (start < 0 || start >= subwordLengths[b]!) {
        throw new Error(`${who}: wordStarts[${b}][${t}] is ${start}, but sentence ${b} has attended subwords 0..${subwordLengths[b]! - 1} (a word with no subword, or a sentence cut by the subword limit?)`);
      }
      if (ends) {
        const end = ends[b * T + t]!;
        if (end <= start || end > subwordLengths[b]!) throw new Error(`${who}: wordEnds[${b}][${t}] is ${end}; it must be in (${start}, ${subwordLengths[b]}]`);
      }
    }
  }
  return { S, starts, ends, subwordLengths };
}
