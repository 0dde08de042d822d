// The CRF-variant interface: what a tagger needs of any CRF on top of its encoder. A variant
// is one file (src/crf/linear.ts, src/crf/semi-markov.ts) plus its tests; the model factory,
// the trainer, evaluation and prediction go through this interface and `createCrf`, so they
// never name a variant. Tags in and out are the model's BIO/BIOES tag ids; a variant may ask
// the encoder for a different number of score columns per word (numScores).
// B = batch, T = words, C = tags.

import type { Tensor } from '../tensor/tensor.js';
import type { Module } from '../nn/module.js';
import type { AllowedTagsInput, CRFConstraints, MaskInput, NllOptions, TagsInput } from './crf.js';

export type { AllowedTagsInput, MaskInput, NllOptions, TagsInput } from './crf.js';

export type CrfVariantName = 'linear' | 'semi-markov';
export const CRF_VARIANTS: readonly CrfVariantName[] = ['linear', 'semi-markov'];

export interface DecodeResult {
  /** Best tag ids per sequence, trimmed to its length. */
  paths: number[][];
  scores: number[];
}

export interface CrfVariant extends Module {
  readonly variant: CrfVariantName;
  /** BIO/BIOES tags the model predicts. */
  readonly numTags: number;
  /** Score columns the encoder's classifier must emit per word (the tags, or the segment labels). */
  readonly numScores: number;
  /** log Z [B], differentiable. */
  logPartition(emissions: Tensor, mask?: MaskInput): Tensor;
  /**
   * Negative log-likelihood of the gold tags, reduced over the batch ('mean' by default). Partial
   * labels (the allowed tags [B,T,C]) where the variant supports them (linear).
   */
  nll(emissions: Tensor, target: TagsInput | AllowedTagsInput, mask?: MaskInput, options?: NllOptions): Tensor;
  /** Viterbi: the best tags per sequence and the scores. */
  decode(emissions: Tensor, mask?: MaskInput): Promise<DecodeResult>;
  /** Per-word confidence of every tag [B,T,C]; no gradient. */
  marginals(emissions: Tensor, mask?: MaskInput): Tensor;
  /** Hard transition constraints from the label scheme, where the variant has tag transitions (linear). */
  setConstraints?(constraints: CRFConstraints | null): void;
  /** The k best tag sequences, where the variant defines them (linear). */
  kBest?(emissions: Tensor, mask: MaskInput | undefined, k: number): Promise<{ paths: number[][][]; scores: number[][] }>;
}

export interface CrfSpec {
  variant: CrfVariantName;
  /** The model's tags (names), and their scheme: the semi-Markov CRF maps them to segments. */
  labels: readonly string[];
  scheme: 'BIO' | 'BIOES';
  /** Longest segment in words (semi-Markov). */
  maxSegmentLength: number;
}
