// The batch every tagger takes, and its checks: shapes, dtypes, masks that are a prefix of
// ones starting on, tags inside the label set, word starts that point at attended subwords.
// Errors name the model, the field, and the row and position that is wrong.
// B = batch, T = words, S = subwords, L = characters per word

import type { Tensor } from '../tensor/tensor.js';
import { fmt } from '../tensor/shape.js';
import type { TypedArray } from '../backend/backend.js';
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
  // Host copies of the index fields. The models validate tags and word starts and build
  // gather indices on the host; on the CPU backend they can read the tensors, but WebGPU
  // reads only asynchronously, so a batch for WebGPU carries these (src/train/encode.ts
  // fills them all) and a training step then reads nothing back but its loss.
  /** Words per sentence (the wordMask's prefix lengths). */
  lengths?: number[];
  /** Gold tags per sentence, at least lengths[b] entries each (padding may be left off). */
  hostTags?: ArrayLike<number>[];
  /** Attended subwords per sentence (the attentionMask's prefix lengths). */
  subwordLengths?: number[];
  /** wordStarts per sentence, at least lengths[b] entries each. */
  hostWordStarts?: ArrayLike<number>[];
  /** wordEnds per sentence, at least lengths[b] entries each. */
  hostWordEnds?: ArrayLike<number>[];
}

/** Free every tensor of a batch (the host arrays beside them need nothing). */
export function disposeBatch(batch: NerBatch): void {
  for (const value of Object.values(batch)) if (value && typeof value === 'object' && 'dispose' in value) (value as Tensor).dispose();
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

/**
 * A [B, T] index field as a flat host array: from its host rows when the batch has them,
 * else read from the tensor (CPU only; on WebGPU requireHost names the missing host field).
 */
function hostField(who: string, name: string, hostName: string, tensor: Tensor, rows: ArrayLike<number>[] | undefined, lengths: readonly number[], T: number): Int32Array {
  if (!rows) return Int32Array.from(requireHost(tensor, who, `${name} (or the batch's ${hostName})`) as TypedArray);
  if (rows.length !== lengths.length) throw new Error(`${who}: ${hostName} has ${rows.length} rows for a batch of ${lengths.length}`);
  const flat = new Int32Array(lengths.length * T);
  rows.forEach((row, b) => {
    if (row.length < lengths[b]!) throw new Error(`${who}: ${hostName}[${b}] has ${row.length} entries for a sentence of ${lengths[b]} words`);
    for (let t = 0; t < lengths[b]!; t++) flat[b * T + t] = row[t]!;
  });
  return flat;
}

/** Checks the word-level fields; returns [B, T], the sentence lengths and, with tags, the gold tags [B*T] on the host. */
export function checkWords(who: string, batch: NerBatch, numTags: number | null): { B: number; T: number; lengths: number[]; tags: Int32Array | null } {
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
  let tags: Int32Array | null = null;
  if (batch.tags && numTags !== null) {
    checkShape(who, 'tags', batch.tags, 'i32', [B, T]);
    tags = hostField(who, 'tags', 'hostTags', batch.tags, batch.hostTags, lengths, T);
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < lengths[b]!; t++) {
        const tag = tags[b * T + t]!;
        if (tag < 0 || tag >= numTags) throw new Error(`${who}: tags[${b}][${t}] is ${tag}, outside the label set [0, ${numTags})`);
      }
    }
  }
  return { B, T, lengths, tags };
}

/** Checks the subword fields against the words; returns S and each word's subword span. */
export function checkSubwords(who: string, batch: NerBatch, B: number, T: number, lengths: number[]): { S: number; starts: Int32Array; ends: Int32Array | null; subwordLengths: number[] } {
  const ids = requireField(who, batch, 'subwordIds');
  if (ids.rank !== 2 || ids.dtype !== 'i32' || ids.shape[0] !== B) throw new Error(`${who}: subwordIds must be i32 [${B}, S], got ${ids.dtype} ${fmt(ids.shape)}`);
  const S = ids.shape[1]!;
  let subwordLengths = new Array<number>(B).fill(S);
  if (batch.attentionMask) {
    checkShape(who, 'attentionMask', batch.attentionMask, 'f32', [B, S]);
    if (batch.subwordLengths) {
      subwordLengths = batch.subwordLengths;
      if (subwordLengths.length !== B) throw new Error(`${who}: ${subwordLengths.length} subwordLengths for a batch of ${B}`);
      subwordLengths.forEach((n, b) => {
        if (!Number.isInteger(n) || n < 1 || n > S) throw new Error(`${who}: subwordLengths[${b}] is ${n}, outside 1..${S}`);
      });
    } else {
      subwordLengths = lengthsFromMask(requireHost(batch.attentionMask, who, "attentionMask (or the batch's subwordLengths)"), B, S, `${who}: attentionMask`);
    }
  }
  if (batch.tokenTypeIds) checkShape(who, 'tokenTypeIds', batch.tokenTypeIds, 'i32', [B, S]);
  const startsTensor = requireField(who, batch, 'wordStarts');
  checkShape(who, 'wordStarts', startsTensor, 'i32', [B, T]);
  const starts = hostField(who, 'wordStarts', 'hostWordStarts', startsTensor, batch.hostWordStarts, lengths, T);
  let ends: Int32Array | null = null;
  if (batch.wordEnds) {
    checkShape(who, 'wordEnds', batch.wordEnds, 'i32', [B, T]);
    ends = hostField(who, 'wordEnds', 'hostWordEnds', batch.wordEnds, batch.hostWordEnds, lengths, T);
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
