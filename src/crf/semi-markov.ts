// The semi-Markov CRF (Sarawagi & Cohen 2004) as a CRF variant. It labels segments, not tokens:
// a sentence is split into segments of 1..L words, each with a label (an entity type, or O),
// and a segmentation scores
//   sum_segments (sum of the encoder's per-label token scores over the segment + lengthScores[y, d-1])
//   + transitions between consecutive segment labels + start[first] + end[last].
// The encoder therefore emits one score per segment label (O plus each type), not per BIO tag.
// log Z by the segment-level forward algorithm and its gradient by segment-level forward-backward
// (Backend.semiCrfForward/Backward; src/backend/cpu/semi-crf.ts, kernels/semi_crf_*.wgsl), Viterbi
// over segmentations on the device. O segments are one word long (a run of O words is one
// labelling, not many). BIO/BIOES tags go in and come out, so the trainer, evaluation and
// prediction need not know which CRF a model has.
// B = batch, T = words, K = segment labels, L = longest segment, C = BIO tags.

import { Tensor, tensor, uniform } from '../tensor/tensor.js';
import { keep, tidy } from '../tensor/scope.js';
import { fmt, sameShape } from '../tensor/shape.js';
import type { Rng } from '../tensor/random.js';
import { noGrad } from '../autograd/grad-mode.js';
import { Module } from '../nn/module.js';
import { add, mul, sub } from '../ops/elementwise.js';
import { mean, sum } from '../ops/reduce.js';
import { semiCrfLogPartition, semiCrfMarginals, semiCrfViterbi } from '../ops/sequence.js';
import { parseTag } from '../data/schemes.js';
import { CONSTRAINT_PENALTY } from './constraints.js';
import type { AllowedTagsInput, CrfVariant, DecodeResult, MaskInput, NllOptions, TagsInput } from './variant.js';

/** A labelled segment [start, end) of a sequence; label indexes the segment labels. */
export interface Segment {
  start: number;
  end: number;
  label: number;
}

export interface SemiMarkovOptions {
  /** Longest segment in words (L); entities longer than this are cut into pieces of L in training. */
  maxSegmentLength: number;
  /** Segment labels limited to one-word segments (O, so a run of O words has one segmentation). */
  singleWordLabels?: readonly number[];
  /**
   * Segment lengths decoding may use, [K][L] (all by default): a BIO/BIOES model can only write
   * the segments its tags spell (no S-X tag: no one-word X). Training is not restricted.
   */
  decodeLengths?: readonly (readonly boolean[])[];
  rng?: Rng;
}

/** The semi-Markov CRF over K segment labels: the layer, in segment terms. */
export class SemiMarkovCRF extends Module {
  readonly transitions: Tensor; // [K,K]
  readonly startTransitions: Tensor; // [K]
  readonly endTransitions: Tensor; // [K]
  readonly lengthScores: Tensor; // [K,L]
  readonly maxSegmentLength: number;
  private readonly lengthPenalty: Tensor | null;
  private readonly decodePenalty: Tensor | null;
  private readonly singleWordLabels: Set<number>;

  constructor(readonly numLabels: number, options: SemiMarkovOptions) {
    super();
    const L = options.maxSegmentLength;
    if (!Number.isInteger(numLabels) || numLabels < 1) throw new Error(`SemiMarkovCRF: numLabels must be a positive integer, got ${numLabels}`);
    if (!Number.isInteger(L) || L < 1) throw new Error(`SemiMarkovCRF: maxSegmentLength must be a positive integer, got ${L}`);
    this.maxSegmentLength = L;
    const init = (shape: number[]) => uniform(shape, -0.1, 0.1, { rng: options.rng });
    this.transitions = this.param('transitions', init([numLabels, numLabels]));
    this.startTransitions = this.param('start_transitions', init([numLabels]));
    this.endTransitions = this.param('end_transitions', init([numLabels]));
    this.lengthScores = this.param('length_scores', init([numLabels, L]));
    const single = options.singleWordLabels ?? [];
    for (const y of single) if (!Number.isInteger(y) || y < 0 || y >= numLabels) throw new Error(`SemiMarkovCRF: singleWordLabels has ${y}, outside [0, ${numLabels})`);
    const penalty = new Float32Array(numLabels * L);
    for (const y of single) penalty.fill(CONSTRAINT_PENALTY, y * L + 1, (y + 1) * L);
    this.lengthPenalty = single.length && L > 1 ? keep(tensor(penalty, [numLabels, L], { backend: this.transitions.backend })) : null;
    this.singleWordLabels = new Set(single);
    const allowed = options.decodeLengths;
    if (allowed && (allowed.length !== numLabels || allowed.some((row) => row.length !== L))) throw new Error(`SemiMarkovCRF: decodeLengths must be [${numLabels}][${L}]`);
    const forbidden = allowed ? Float32Array.from({ length: numLabels * L }, (_, i) => (allowed[Math.floor(i / L)]![i % L] ? penalty[i]! : CONSTRAINT_PENALTY)) : null;
    this.decodePenalty = forbidden && forbidden.some((v, i) => v !== penalty[i]) ? keep(tensor(forbidden, [numLabels, L], { backend: this.transitions.backend })) : this.lengthPenalty;
  }

  /** The length scores plus the penalties of the use: one-word labels ('train'), and what the tags can spell ('decode'). */
  private lengths(use: 'train' | 'decode' = 'train'): Tensor {
    const penalty = use === 'train' ? this.lengthPenalty : this.decodePenalty;
    return penalty ? add(this.lengthScores, penalty) : this.lengthScores;
  }

  /** log Z [B]. */
  logPartition(emissions: Tensor, mask: MaskInput | undefined): Tensor {
    const { maskTensor } = this.readMask('SemiMarkovCRF.logPartition', emissions, mask);
    return semiCrfLogPartition(emissions, maskTensor, this.transitions, this.startTransitions, this.endTransitions, this.lengths());
  }

  /** log Z - score(gold segmentation) per sequence, reduced. The gold score is linear in the parameters. */
  segmentNll(emissions: Tensor, gold: readonly Segment[][], mask: MaskInput | undefined, options: NllOptions = {}): Tensor {
    const op = 'SemiMarkovCRF.segmentNll';
    const { maskTensor, lengths } = this.readMask(op, emissions, mask);
    const [B, T, K] = emissions.shape as [number, number, number];
    const L = this.maxSegmentLength;
    if (gold.length !== B) throw new Error(`${op}: ${gold.length} gold segmentations for a batch of ${B}`);
    const hits = new Float32Array(B * T * K);
    const lengthCounts = new Float32Array(B * K * L);
    const transitionCounts = new Float32Array(B * K * K);
    const first = new Float32Array(B * K);
    const last = new Float32Array(B * K);
    gold.forEach((segments, b) => {
      let position = 0;
      segments.forEach((seg, i) => {
        const d = seg.end - seg.start;
        if (seg.start !== position || d < 1 || d > L || !Number.isInteger(seg.label) || seg.label < 0 || seg.label >= K) {
          throw new Error(`${op}: sequence ${b} segment ${i} [${seg.start}, ${seg.end}) label ${seg.label} is not a segment of 1..${L} words continuing at ${position} with a label in [0, ${K})`);
        }
        if (d > 1 && this.singleWordLabels.has(seg.label)) throw new Error(`${op}: sequence ${b} segment ${i} of label ${seg.label} has ${d} words; that label takes one-word segments`);
        for (let t = seg.start; t < seg.end; t++) hits[(b * T + t) * K + seg.label] = 1;
        lengthCounts[(b * K + seg.label) * L + d - 1]! += 1;
        if (i > 0) transitionCounts[(b * K + segments[i - 1]!.label) * K + seg.label]! += 1;
        position = seg.end;
      });
      if (position !== lengths[b]) throw new Error(`${op}: the gold segments of sequence ${b} cover ${position} words; the mask has ${lengths[b]}`);
      first[b * K + segments[0]!.label] = 1;
      last[b * K + segments.at(-1)!.label] = 1;
    });
    const on = (values: Float32Array, shape: number[]) => tensor(values, shape, { backend: emissions.backend });
    const lengthScores = this.lengths();
    const score = add(
      add(sum(mul(emissions, on(hits, [B, T, K])), [1, 2]), sum(mul(lengthScores, on(lengthCounts, [B, K, L])), [1, 2])),
      add(sum(mul(this.transitions, on(transitionCounts, [B, K, K])), [1, 2]), add(sum(mul(this.startTransitions, on(first, [B, K])), 1), sum(mul(this.endTransitions, on(last, [B, K])), 1))),
    );
    const logZ = semiCrfLogPartition(emissions, maskTensor, this.transitions, this.startTransitions, this.endTransitions, lengthScores);
    const perSequence = sub(logZ, score);
    const reduction = options.reduction ?? 'mean';
    if (reduction === 'none') return perSequence;
    if (reduction === 'sum') return sum(perSequence);
    if (reduction === 'mean') return mean(perSequence);
    throw new Error(`${op}: reduction must be 'mean', 'sum' or 'none', got '${String(reduction)}'`);
  }

  /** The best segmentation per sequence (Viterbi on the device) and its score. */
  async decodeSegments(emissions: Tensor, mask: MaskInput | undefined): Promise<{ segments: Segment[][]; scores: number[] }> {
    const op = 'SemiMarkovCRF.decode';
    const { result, lengths } = noGrad(() =>
      tidy(() => {
        const { maskTensor, lengths } = this.readMask(op, emissions, mask);
        const lengthScores = this.lengths('decode');
        return { result: semiCrfViterbi(emissions, maskTensor, this.transitions, this.startTransitions, this.endTransitions, lengthScores), lengths };
      }),
    );
    try {
      const [codes, scores] = await Promise.all([result.codes.data(), result.score.data()]);
      const [, T, K] = emissions.shape as [number, number, number];
      const segments = lengths.map((n, b) => {
        const list: Segment[] = [];
        for (let t = 0; t < n; t++) {
          const code = codes[b * T + t]!;
          if (code < K || list.length === 0) list.push({ start: t, end: t + 1, label: code % K });
          else list.at(-1)!.end = t + 1;
        }
        return list;
      });
      return { segments, scores: Array.from(scores) };
    } finally {
      result.codes.dispose();
      result.score.dispose();
    }
  }

  /** P(word t lies in a segment of label y) [B,T,K] (0 on masked words); no gradient. */
  labelMarginals(emissions: Tensor, mask: MaskInput | undefined): Tensor {
    const op = 'SemiMarkovCRF.marginals';
    return noGrad(() =>
      tidy(() => {
        const { maskTensor } = this.readMask(op, emissions, mask);
        const lengthScores = this.lengths('decode');
        return semiCrfMarginals(emissions, maskTensor, this.transitions, this.startTransitions, this.endTransitions, lengthScores);
      }),
    );
  }

  override dispose(): void {
    super.dispose();
    if (this.decodePenalty !== this.lengthPenalty) this.decodePenalty?.dispose();
    this.lengthPenalty?.dispose();
  }

  private readMask(op: string, emissions: Tensor, mask: MaskInput | undefined): { maskTensor: Tensor; lengths: number[] } {
    if (!(emissions instanceof Tensor) || emissions.dtype !== 'f32' || emissions.rank !== 3 || emissions.shape.some((d) => d === 0)) {
      throw new Error(`${op}: emissions must be an f32 tensor [batch, steps, labels] with no empty dimension`);
    }
    const [B, T, K] = emissions.shape as [number, number, number];
    if (K !== this.numLabels) throw new Error(`${op}: emissions ${fmt(emissions.shape)} have ${K} labels but the semi-Markov CRF has ${this.numLabels}`);
    const values = new Float32Array(B * T);
    const lengths: number[] = [];
    if (mask instanceof Tensor) throw new Error(`${op}: pass the mask as one array per sequence`);
    for (let b = 0; b < B; b++) {
      const row = mask ? mask[b] : undefined;
      if (mask && (!row || row.length !== T)) throw new Error(`${op}: mask[${b}] must have ${T} entries`);
      let n = 0;
      for (let t = 0; t < T; t++) {
        const v = row ? row[t]! : 1;
        if (v !== 0 && v !== 1) throw new Error(`${op}: mask[${b}][${t}] is ${v}; mask values must be 0 or 1`);
        if (t === 0 && v === 0) throw new Error(`${op}: mask[${b}][0] is 0; every sequence must start with an unmasked token`);
        if (v === 1 && n !== t) throw new Error(`${op}: mask[${b}] is not a prefix of ones`);
        if (v === 1) n++;
        values[b * T + t] = v;
      }
      lengths.push(n);
    }
    return { maskTensor: tensor(values, [B, T], { backend: emissions.backend }), lengths };
  }
}

/**
 * The semi-Markov CRF behind the CRF-variant interface: BIO (or BIOES) tag ids in and out.
 * Segment labels are O (index 0, one-word segments) and the entity types in the tags' order.
 * Its parameters sit where the linear CRF's do (crf.transitions, crf.start_transitions,
 * crf.end_transitions), plus crf.length_scores [K,L].
 */
export class SemiMarkovCrfVariant extends SemiMarkovCRF implements CrfVariant {
  readonly variant = 'semi-markov' as const;
  readonly numTags: number;
  readonly numScores: number;
  readonly segmentLabels: string[];
  /** Gold entities longer than L cut into pieces so far. */
  cutEntities = 0;
  private readonly typeOfTag: number[]; // tag id -> segment label (0 = O)
  private readonly prefixOfTag: string[];

  /** O and the entity types of the tags, in order of first appearance. */
  static segmentLabelsOf(tagLabels: readonly string[]): string[] {
    return ['O', ...new Set(tagLabels.filter((t) => t !== 'O').map((t) => parseTag(t).type))];
  }

  constructor(readonly tagLabels: readonly string[], readonly scheme: 'BIO' | 'BIOES', options: { maxSegmentLength: number; rng?: Rng }) {
    const types = SemiMarkovCrfVariant.segmentLabelsOf(tagLabels).slice(1);
    const L = options.maxSegmentLength;
    const has = (tag: string) => tagLabels.includes(tag);
    // The segments the tags can spell: BIO needs B-X (and I-X past one word); BIOES S-X for one
    // word, B-X and E-X for more, I-X past two.
    const spellable = (type: string, d: number) =>
      scheme === 'BIOES'
        ? d === 1 ? has(`S-${type}`) : has(`B-${type}`) && has(`E-${type}`) && (d === 2 || has(`I-${type}`))
        : has(`B-${type}`) && (d === 1 || has(`I-${type}`));
    const decodeLengths = [Array.from({ length: L }, (_, k) => k === 0), ...types.map((type) => Array.from({ length: L }, (_, k) => spellable(type, k + 1)))];
    super(types.length + 1, { maxSegmentLength: L, singleWordLabels: [0], decodeLengths, rng: options.rng });
    this.segmentLabels = ['O', ...types];
    this.typeOfTag = tagLabels.map((t) => (t === 'O' ? 0 : 1 + types.indexOf(parseTag(t).type)));
    this.prefixOfTag = tagLabels.map((t) => parseTag(t).prefix);
    this.numTags = tagLabels.length;
    this.numScores = this.segmentLabels.length;
  }

  /** Gold tag ids -> segments: entities by the scheme's rules, O words one by one, long entities cut into pieces of L. */
  segmentsOf(tags: ArrayLike<number>, length: number): Segment[] {
    const L = this.maxSegmentLength;
    const segments: Segment[] = [];
    let open = false; // the last segment is an entity that the next I-/E- tag of its type continues
    for (let t = 0; t < length; t++) {
      const tag = tags[t]!;
      if (!Number.isInteger(tag) || tag < 0 || tag >= this.numTags) throw new Error(`semi-Markov CRF: tag ${tag} at word ${t} is outside [0, ${this.numTags})`);
      const label = this.typeOfTag[tag]!;
      const prefix = this.prefixOfTag[tag]!;
      const previous = segments.at(-1);
      const continues = open && label !== 0 && previous!.label === label && (prefix === 'I' || prefix === 'E');
      if (continues && previous!.end - previous!.start < L) previous!.end = t + 1;
      else {
        if (continues) this.cutEntities++;
        segments.push({ start: t, end: t + 1, label });
      }
      open = label !== 0 && prefix !== 'S' && prefix !== 'E';
    }
    return segments;
  }

  /** Segments -> tag ids of the scheme (B-/I- or B-/I-/E-/S-). */
  tagsOf(segments: readonly Segment[]): number[] {
    const id = (tag: string) => {
      const i = this.tagLabels.indexOf(tag);
      if (i < 0) throw new Error(`semi-Markov CRF: tag ${tag} is not among the model's labels`);
      return i;
    };
    const tags: number[] = [];
    for (const seg of segments) {
      const type = this.segmentLabels[seg.label]!;
      const d = seg.end - seg.start;
      for (let k = 0; k < d; k++) {
        if (seg.label === 0) tags.push(id('O'));
        else if (this.scheme === 'BIOES') tags.push(id(`${d === 1 ? 'S' : k === 0 ? 'B' : k === d - 1 ? 'E' : 'I'}-${type}`));
        else tags.push(id(`${k === 0 ? 'B' : 'I'}-${type}`));
      }
    }
    return tags;
  }

  nll(emissions: Tensor, target: TagsInput | AllowedTagsInput, mask?: MaskInput, options: NllOptions = {}): Tensor {
    if (target instanceof Tensor) throw new Error('semi-Markov CRF nll: pass the gold tags as one array per sequence');
    if (typeof target[0]?.[0] === 'object') throw new Error('semi-Markov CRF nll: partial labels (allowed tags per word) are not supported; give one gold tag per word');
    const tags = target as ArrayLike<number>[];
    const [B, T] = emissions.shape as [number, number];
    if (mask instanceof Tensor) throw new Error('semi-Markov CRF nll: pass the mask as one array per sequence');
    const lengths = Array.from({ length: B }, (_, b) => (mask ? Array.from(mask[b] ?? []).reduce((n, v) => n + v, 0) : T));
    return this.segmentNll(emissions, lengths.map((n, b) => this.segmentsOf(tags[b]!, n)), mask, options);
  }

  async decode(emissions: Tensor, mask?: MaskInput): Promise<DecodeResult> {
    const { segments, scores } = await this.decodeSegments(emissions, mask);
    return { paths: segments.map((s) => this.tagsOf(s)), scores };
  }

  /** [B,T,C]: for each BIO tag, the probability that the word lies in a segment of its label. */
  marginals(emissions: Tensor, mask?: MaskInput): Tensor {
    return noGrad(() =>
      tidy(() => {
        const byLabel = this.labelMarginals(emissions, mask);
        const index = tensor(Int32Array.from(this.typeOfTag), [this.numTags], { dtype: 'i32', backend: emissions.backend });
        return byLabel.indexSelect(2, index);
      }),
    );
  }
}
