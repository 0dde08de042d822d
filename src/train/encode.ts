// Sentences -> NerBatch tensors, for both families of models: word ids (+ char
// ids) for the BiLSTM-CRF, WordPiece subwords with first-subword indices for the
// BERT taggers. Long sentences are cut into word windows that fit maxLength
// subwords; overlapping windows are merged so each word takes the prediction of
// the window where it sits most centrally (src/text/windows.ts).
// B = batch, T = words, S = subwords, L = characters per word

import { tensor } from '../tensor/tensor.js';
import type { Backend } from '../backend/backend.js';
import type { Sentence } from '../data/types.js';
import type { NerBatch } from '../models/batch.js';
import type { SubwordTokenizer } from '../text/subword-tokenizer.js';
import { mergeWindowPredictions, slidingWindows, type Window } from '../text/windows.js';
import { repairTags } from '../data/schemes.js';
import { normalizeWord, type Vocabulary } from './vocab.js';

/** Longest word, in characters, the char-CNN sees; longer words are cut (their ends rarely matter). */
const MAX_WORD_CHARS = 24;

export interface EncodedBatch {
  batch: NerBatch;
  /** Host copies, so nothing needs a readback: the CRF takes arrays on WebGPU. */
  lengths: number[];
  tags: number[][] | null;
}

export interface SentenceEncoder {
  readonly kind: 'words' | 'subwords';
  /** Word windows [start, end) of one sentence so that each window fits the model. */
  windows(tokens: readonly string[]): Window[];
  encode(sentences: readonly Pick<Sentence, 'tokens' | 'tags'>[], labelIndex: Map<string, number> | null, backend: Backend): EncodedBatch;
}

function tagIds(sentences: readonly Pick<Sentence, 'tags'>[], labelIndex: Map<string, number>): number[][] {
  return sentences.map((s) =>
    s.tags.map((t, i) => {
      const id = labelIndex.get(t);
      if (id === undefined) throw new Error(`tag "${t}" at word ${i} is not in the model's label set (${[...labelIndex.keys()].join(', ')})`);
      return id;
    }),
  );
}

function padded(rows: number[][], width: number, fill: number): Int32Array {
  const out = new Int32Array(rows.length * width).fill(fill);
  rows.forEach((r, b) => out.set(r.slice(0, width), b * width));
  return out;
}

function wordFields(sentences: readonly Pick<Sentence, 'tokens' | 'tags'>[], labelIndex: Map<string, number> | null, backend: Backend) {
  const lengths = sentences.map((s) => s.tokens.length);
  const B = sentences.length;
  const T = Math.max(...lengths);
  const mask = new Float32Array(B * T);
  lengths.forEach((n, b) => mask.fill(1, b * T, b * T + n));
  const tags = labelIndex ? tagIds(sentences, labelIndex) : null;
  return {
    B,
    T,
    lengths,
    tags,
    fields: {
      wordMask: tensor(mask, [B, T], { backend }),
      tags: tags ? tensor(padded(tags, T, 0), [B, T], { dtype: 'i32', backend }) : undefined,
      lengths,
      hostTags: tags ?? undefined,
    },
  };
}

/**
 * Most words the BiLSTM sees at once. Longer sentences (a text with no sentence end, megabytes long) are cut
 * into windows overlapping by half, so memory stays bounded; no real sentence comes near this.
 */
export const MAX_WINDOW_WORDS = 4096;

/** Word embeddings (+ characters): one window per sentence up to MAX_WINDOW_WORDS words. */
export class WordEncoder implements SentenceEncoder {
  readonly kind = 'words';

  constructor(readonly words: Vocabulary, readonly chars: Vocabulary | null, readonly lowercase: boolean, readonly maxWindow = MAX_WINDOW_WORDS) {}

  windows(tokens: readonly string[]): Window[] {
    return slidingWindows(tokens.length, this.maxWindow, Math.max(1, Math.floor(this.maxWindow / 2)));
  }

  encode(sentences: readonly Pick<Sentence, 'tokens' | 'tags'>[], labelIndex: Map<string, number> | null, backend: Backend): EncodedBatch {
    const { B, T, lengths, tags, fields } = wordFields(sentences, labelIndex, backend);
    const ids = padded(sentences.map((s) => s.tokens.map((w) => this.words.id(normalizeWord(w, this.lowercase)))), T, 0);
    const batch: NerBatch = { ...fields, wordIds: tensor(ids, [B, T], { dtype: 'i32', backend }) };
    if (this.chars) {
      // A loop, not Math.max(...words): a batch can hold more words than a call has room for arguments.
      let L = 1;
      for (const s of sentences) for (const w of s.tokens) L = Math.max(L, Math.min(MAX_WORD_CHARS, [...w].length));
      const charIds = new Int32Array(B * T * L);
      sentences.forEach((s, b) => s.tokens.forEach((w, t) => [...w].slice(0, L).forEach((ch, i) => (charIds[(b * T + t) * L + i] = this.chars!.id(ch)))));
      batch.charIds = tensor(charIds, [B, T, L], { dtype: 'i32', backend });
    }
    return { batch, lengths, tags };
  }
}

/**
 * Subwords for a transformer encoder: the model's special tokens around the words ([CLS] words [SEP] for
 * BERT/ALBERT/ModernBERT, <s> words </s> for RoBERTa, none for GPT-2/GPT-Neo), each word pointing at its
 * first (and past its last) subword.
 */
export class SubwordEncoder implements SentenceEncoder {
  readonly kind = 'subwords';
  private readonly specials: number;
  private readonly cache = new Map<string, number[]>();

  constructor(readonly tokenizer: SubwordTokenizer, readonly maxLength: number) {
    this.specials = tokenizer.specialPrefix.length + tokenizer.specialSuffix.length;
    if (maxLength < this.specials + 1) throw new Error(`maxLength ${maxLength} leaves no room for words between the special tokens`);
  }

  /** Subwords of one word; a word the tokenizer drops (control characters only) becomes [UNK]. */
  private pieces(word: string): number[] {
    // Every epoch asks again for the same words: remember them (tokenization is deterministic).
    const cached = this.cache.get(word);
    if (cached) return cached;
    const ids = this.tokenizer.encodeWords([word], { addSpecialTokens: false }).ids;
    const pieces = ids.length > 0 ? ids : [this.tokenizer.unkId];
    if (this.cache.size >= 200_000) this.cache.clear();
    this.cache.set(word, pieces);
    return pieces;
  }

  /** Room for word subwords between the special tokens; a longer word keeps its first subwords only. */
  private get budget(): number {
    return this.maxLength - this.specials;
  }

  windows(tokens: readonly string[]): Window[] {
    const budget = this.budget;
    const sizes = tokens.map((w) => Math.min(this.pieces(w).length, budget));
    const total = sizes.reduce((a, b) => a + b, 0);
    if (total <= budget) return [{ start: 0, end: tokens.length }];
    // Greedy windows that fit, each starting halfway into the previous one, so every word
    // but those at the ends has context on both sides in some window.
    const windows: Window[] = [];
    let start = 0;
    for (;;) {
      let end = start;
      let used = 0;
      while (end < tokens.length && used + sizes[end]! <= budget) used += sizes[end++]!;
      // A window ending where the previous one did lies inside it (a long word stopped both): skip it.
      if (end > (windows.at(-1)?.end ?? 0)) windows.push({ start, end });
      if (end >= tokens.length) break;
      start = Math.max(start + 1, start + Math.floor((end - start) / 2));
    }
    return windows;
  }

  encode(sentences: readonly Pick<Sentence, 'tokens' | 'tags'>[], labelIndex: Map<string, number> | null, backend: Backend): EncodedBatch {
    const { B, T, lengths, tags, fields } = wordFields(sentences, labelIndex, backend);
    const subwordRows: number[][] = [];
    const starts: number[][] = [];
    const ends: number[][] = [];
    for (const s of sentences) {
      const row = [...this.tokenizer.specialPrefix];
      const first: number[] = [];
      const last: number[] = [];
      for (const w of s.tokens) {
        first.push(row.length);
        // Cut as windows() counts it: a word (a DNA string, a long IUPAC name) longer than a window alone.
        row.push(...this.pieces(w).slice(0, this.budget));
        last.push(row.length);
      }
      row.push(...this.tokenizer.specialSuffix);
      if (row.length > this.maxLength) throw new Error(`a sentence of ${s.tokens.length} words has ${row.length} subwords, over maxLength ${this.maxLength}; cut it with windows() first`);
      subwordRows.push(row);
      starts.push(first);
      ends.push(last);
    }
    const S = Math.max(...subwordRows.map((r) => r.length));
    const attention = new Float32Array(B * S);
    subwordRows.forEach((r, b) => attention.fill(1, b * S, b * S + r.length));
    const batch: NerBatch = {
      ...fields,
      subwordIds: tensor(padded(subwordRows, S, this.tokenizer.padId), [B, S], { dtype: 'i32', backend }),
      attentionMask: tensor(attention, [B, S], { backend }),
      wordStarts: tensor(padded(starts, T, 0), [B, T], { dtype: 'i32', backend }),
      wordEnds: tensor(padded(ends, T, 1), [B, T], { dtype: 'i32', backend }),
      subwordLengths: subwordRows.map((r) => r.length),
      hostWordStarts: starts,
      hostWordEnds: ends,
    };
    return { batch, lengths, tags };
  }
}

/** One model input: a window of a sentence, with where it came from. */
export interface Chunk {
  sentence: number;
  window: Window;
  tokens: string[];
  tags: string[];
}

export function chunkSentences(sentences: readonly Sentence[], encoder: SentenceEncoder): Chunk[] {
  return sentences.flatMap((s, sentence) => {
    const windows = encoder.windows(s.tokens);
    const scheme = s.tags.some((t) => t.startsWith('E-') || t.startsWith('S-')) ? 'BIOES' : 'BIO';
    return windows.map((window) => {
      const tags = s.tags.slice(window.start, window.end);
      // A window cut inside an entity would start with I-X (or end on B-X in BIOES): a valid
      // sequence for the window is the entity's visible part, as its own entity.
      return { sentence, window, tokens: s.tokens.slice(window.start, window.end), tags: windows.length > 1 ? repairTags(tags, scheme) : tags };
    });
  });
}

/** Predictions per chunk -> per sentence, merging overlapping windows by centrality. */
export function mergeChunks<T>(sentences: readonly Sentence[], chunks: readonly Chunk[], predictions: readonly T[][]): T[][] {
  const bySentence = sentences.map(() => ({ windows: [] as Window[], predictions: [] as T[][] }));
  chunks.forEach((c, i) => {
    bySentence[c.sentence]!.windows.push(c.window);
    // mergeWindowPredictions wants each window's predictions over the window only.
    bySentence[c.sentence]!.predictions.push(predictions[i]!);
  });
  return sentences.map((s, i) => {
    const { windows, predictions: p } = bySentence[i]!;
    if (windows.length === 0) return [];
    return windows.length === 1 ? p[0]! : mergeWindowPredictions(s.tokens.length, windows, p);
  });
}
