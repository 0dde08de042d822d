// The linear-chain CRF layer: batched, masked, with start and end transitions
// (parameter names as pytorch-crf). Training loss by the forward algorithm with its
// gradient from forward-backward marginals; Viterbi and k-best decoding; per-token
// marginals; optional hard constraints from a label scheme; partial labels.
// B = batch, T = time steps, C = tags.

import { Tensor, tensor, uniform } from '../tensor/tensor.js';
import { keep, tidy } from '../tensor/scope.js';
import { fmt, sameShape } from '../tensor/shape.js';
import type { Rng } from '../tensor/random.js';
import type { TypedArray } from '../backend/backend.js';
import { noGrad } from '../autograd/grad-mode.js';
import { Module } from '../nn/module.js';
import { add, mul, sub } from '../ops/elementwise.js';
import { mean, sum } from '../ops/reduce.js';
import { allowedTransitions, CONSTRAINT_PENALTY, type AllowedTransitions, type ConstraintScheme } from './constraints.js';
import { crfLogPartition, crfMarginals, crfViterbi } from '../ops/sequence.js';
import { kBestPaths } from './kbest.js';

/** A [B,T] 0/1 mask (1 = real token, a prefix of ones per sequence): a tensor, or one array per sequence. */
export type MaskInput = Tensor | ArrayLike<number>[];
/** Gold tags [B,T] in [0, C); entries on masked steps are ignored. */
export type TagsInput = Tensor | ArrayLike<number>[];
/** Partial labels: [B,T,C] 0/1, the tags allowed at each token (at least one per real token). */
export type AllowedTagsInput = Tensor | ArrayLike<number>[][];

export type ConstraintMode = 'decode' | 'train+decode';
/** Hard constraints: from labels and a scheme, or given directly. labels also name tags in errors. */
export type CRFConstraints = { mode: ConstraintMode } & (
  | { labels: readonly string[]; scheme: ConstraintScheme }
  | { allowed: AllowedTransitions; labels?: readonly string[] }
);

export interface CRFOptions {
  /** Generator for the uniform(-0.1, 0.1) initialisation; the global seedable one by default. */
  rng?: Rng;
  constraints?: CRFConstraints;
}

export interface NllOptions {
  /** 'mean' over the batch (default), 'sum', or 'none' for a [B] tensor. */
  reduction?: 'mean' | 'sum' | 'none';
}

interface ActiveConstraints {
  mode: ConstraintMode;
  labels?: readonly string[];
  allowed: AllowedTransitions;
  // CONSTRAINT_PENALTY where forbidden, 0 elsewhere; added to the parameters.
  penalty: { transitions: Tensor; start: Tensor; end: Tensor };
}

interface Scores {
  transitions: Tensor;
  start: Tensor;
  end: Tensor;
}

export class CRF extends Module {
  readonly transitions: Tensor; // [C,C], transitions[i,j] = score of tag i followed by tag j
  readonly startTransitions: Tensor; // [C]
  readonly endTransitions: Tensor; // [C]
  private constraint: ActiveConstraints | null = null;

  constructor(readonly numTags: number, options: CRFOptions = {}) {
    super();
    if (!Number.isInteger(numTags) || numTags < 1) throw new Error(`CRF: numTags must be a positive integer, got ${numTags}`);
    const init = (shape: number[]) => uniform(shape, -0.1, 0.1, { rng: options.rng });
    this.transitions = this.param('transitions', init([numTags, numTags]));
    this.startTransitions = this.param('start_transitions', init([numTags]));
    this.endTransitions = this.param('end_transitions', init([numTags]));
    if (options.constraints) this.setConstraints(options.constraints);
  }

  /** Switch constraints on (for decoding only, or for training too) or off (null). */
  setConstraints(constraints: CRFConstraints | null): void {
    this.freeConstraints();
    if (!constraints) return;
    const { mode, labels } = constraints;
    if (mode !== 'decode' && mode !== 'train+decode') throw new Error(`CRF.setConstraints: mode must be 'decode' or 'train+decode', got '${String(mode)}'`);
    if (labels && labels.length !== this.numTags) throw new Error(`CRF.setConstraints: ${labels.length} labels for a CRF with ${this.numTags} tags`);
    const allowed = 'allowed' in constraints ? constraints.allowed : allowedTransitions(constraints.labels, constraints.scheme);
    const C = this.numTags;
    if (allowed.start.length !== C || allowed.end.length !== C || allowed.transitions.length !== C || allowed.transitions.some((row) => row.length !== C)) {
      throw new Error(`CRF.setConstraints: allowed start, end must have ${C} entries and transitions ${C}x${C}`);
    }
    const penalty = (values: number[], shape: number[]) =>
      keep(tensor(values.map((a) => (a ? 0 : CONSTRAINT_PENALTY)), shape, { backend: this.transitions.backend }));
    this.constraint = {
      mode,
      labels,
      allowed,
      penalty: { transitions: penalty(allowed.transitions.flat(), [C, C]), start: penalty(allowed.start, [C]), end: penalty(allowed.end, [C]) },
    };
  }

  // ---------- training ----------

  /** log Z [B]: the log-sum over all tag paths (under the constraints in 'train+decode' mode). Differentiable. */
  logPartition(emissions: Tensor, mask?: MaskInput): Tensor {
    const op = 'CRF.logPartition';
    const { maskTensor } = this.readMask(op, emissions, mask);
    const s = this.scores('train');
    return crfLogPartition(emissions, maskTensor, s.transitions, s.start, s.end);
  }

  /**
   * Negative log-likelihood logZ - score(gold). `target` is either the gold tags [B,T] or,
   * for partial labels, the allowed tags [B,T,C]; then the numerator is the log-sum over
   * all paths that use only allowed tags (a constrained log-partition).
   */
  nll(emissions: Tensor, target: TagsInput | AllowedTagsInput, mask?: MaskInput, options: NllOptions = {}): Tensor {
    const op = 'CRF.nll';
    const { maskTensor, lengths } = this.readMask(op, emissions, mask);
    const s = this.scores('train');
    const logZ = crfLogPartition(emissions, maskTensor, s.transitions, s.start, s.end);
    const numerator = isAllowedTags(op, target)
      ? crfLogPartition(add(emissions, this.partialLabelPenalty(op, emissions, target, lengths)), maskTensor, s.transitions, s.start, s.end)
      : this.goldScore(op, emissions, target, lengths, s);
    const perSequence = sub(logZ, numerator);
    const reduction = options.reduction ?? 'mean';
    if (reduction === 'none') return perSequence;
    if (reduction === 'sum') return sum(perSequence);
    if (reduction === 'mean') return mean(perSequence);
    throw new Error(`${op}: reduction must be 'mean', 'sum' or 'none', got '${String(reduction)}'`);
  }

  /**
   * The gold path's score is linear in the scores: sum(emissions * one-hot tags) +
   * sum(transitions * transition counts) + start[y0] + end[y_last], so ordinary ops give
   * its exact gradient (the counts) at O(B T C + B C^2) cost.
   */
  private goldScore(op: string, emissions: Tensor, target: TagsInput, lengths: number[], s: Scores): Tensor {
    const [B, T, C] = emissions.shape as [number, number, number];
    const tags = readInput(op, 'tags', target, [B, T]);
    const emissionHits = new Float32Array(B * T * C);
    const transitionCounts = new Float32Array(B * C * C);
    const first = new Float32Array(B * C);
    const last = new Float32Array(B * C);
    const checkTraining = this.constraint?.mode === 'train+decode' ? this.constraint : null;
    for (let b = 0; b < B; b++) {
      let previous = -1;
      for (let t = 0; t < lengths[b]!; t++) {
        const tag = tags[b * T + t]!;
        if (!Number.isInteger(tag) || tag < 0 || tag >= C) throw new Error(`${op}: tags[${b}][${t}] is ${tag}, outside the tag range [0, ${C})`);
        emissionHits[(b * T + t) * C + tag] = 1;
        if (previous >= 0) transitionCounts[b * C * C + previous * C + tag]! += 1;
        if (checkTraining && (previous >= 0 ? !checkTraining.allowed.transitions[previous]![tag] : !checkTraining.allowed.start[tag])) {
          const move = previous >= 0 ? `moves from ${this.tagName(previous)} to ${this.tagName(tag)} at step ${t}` : `starts with ${this.tagName(tag)}`;
          throw new Error(`${op}: tags[${b}] ${move}, which the constraints forbid in mode 'train+decode'; repair the tags or constrain decoding only`);
        }
        previous = tag;
      }
      if (checkTraining && !checkTraining.allowed.end[previous]) {
        throw new Error(`${op}: tags[${b}] ends with ${this.tagName(previous)}, which the constraints forbid in mode 'train+decode'; repair the tags or constrain decoding only`);
      }
      first[b * C + tags[b * T]!] = 1;
      last[b * C + previous] = 1;
    }
    const on = (values: Float32Array, shape: number[]) => tensor(values, shape, { backend: emissions.backend });
    const emissionScore = sum(mul(emissions, on(emissionHits, [B, T, C])), [1, 2]);
    const transitionScore = sum(mul(s.transitions, on(transitionCounts, [B, C, C])), [1, 2]);
    const boundaryScore = add(sum(mul(s.start, on(first, [B, C])), 1), sum(mul(s.end, on(last, [B, C])), 1));
    return add(add(emissionScore, transitionScore), boundaryScore);
  }

  /** CONSTRAINT_PENALTY [B,T,C] on every tag a token does not allow (0 on masked steps). */
  private partialLabelPenalty(op: string, emissions: Tensor, target: AllowedTagsInput, lengths: number[]): Tensor {
    const [B, T, C] = emissions.shape as [number, number, number];
    const allowed = readInput(op, 'allowed tags', target, [B, T, C]);
    const penalty = new Float32Array(B * T * C);
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < lengths[b]!; t++) {
        let any = false;
        for (let j = 0; j < C; j++) {
          const a = allowed[(b * T + t) * C + j]!;
          if (a !== 0 && a !== 1) throw new Error(`${op}: allowed tags[${b}][${t}][${j}] is ${a}; values must be 0 or 1`);
          if (a === 0) penalty[(b * T + t) * C + j] = CONSTRAINT_PENALTY;
          any ||= a === 1;
        }
        if (!any) throw new Error(`${op}: allowed tags[${b}][${t}] allows no tag; every real token needs at least one`);
      }
    }
    return tensor(penalty, [B, T, C], { backend: emissions.backend });
  }

  // ---------- inference (constraints apply in both modes) ----------

  /** Batched Viterbi: the best path per sequence, trimmed to its length, and its score. */
  async decode(emissions: Tensor, mask?: MaskInput): Promise<{ paths: number[][]; scores: number[] }> {
    const op = 'CRF.decode';
    const { result, lengths } = noGrad(() =>
      tidy(() => {
        const { maskTensor, lengths } = this.readMask(op, emissions, mask);
        const s = this.scores('decode');
        return { result: crfViterbi(emissions, maskTensor, s.transitions, s.start, s.end), lengths };
      }),
    );
    try {
      const [tags, scores] = await Promise.all([result.tags.data(), result.score.data()]);
      const T = emissions.shape[1]!;
      return { paths: lengths.map((length, b) => Array.from(tags.subarray(b * T, b * T + length))), scores: Array.from(scores) };
    } finally {
      result.tags.dispose();
      result.score.dispose();
    }
  }

  /** The k best paths per sequence, best first (fewer when a sequence has fewer allowed paths); computed on the host. */
  async kBest(emissions: Tensor, mask: MaskInput | undefined, k: number): Promise<{ paths: number[][][]; scores: number[][] }> {
    const op = 'CRF.kBest';
    if (!Number.isInteger(k) || k < 1) throw new Error(`${op}: k must be a positive integer, got ${k}`);
    const { lengths } = this.checkMask(op, emissions, mask); // on the host: no device mask needed
    const [B, T, C] = emissions.shape as [number, number, number];
    const [values, transitions, start, end] = await Promise.all([emissions.data(), this.transitions.data(), this.startTransitions.data(), this.endTransitions.data()]);
    // On the host, in float64, a forbidden move can be -Infinity: kBestPaths drops such paths
    // instead of listing them with a penalised score.
    const allowed = this.constraint?.allowed;
    const forbid = (scores: TypedArray, ok: number[] | undefined) => Float64Array.from(scores, (v, i) => (ok && !ok[i] ? -Infinity : v));
    const [trans, first, final] = [forbid(transitions, allowed?.transitions.flat()), forbid(start, allowed?.start), forbid(end, allowed?.end)];
    const best = lengths.map((length, b) => kBestPaths(values.subarray(b * T * C, (b * T + length) * C), length, trans, first, final, C, k));
    return { paths: best.map((list) => list.map((p) => p.path)), scores: best.map((list) => list.map((p) => p.score)) };
  }

  /** Per-token posteriors P(y_t = j) [B,T,C] (0 on masked steps), by forward-backward; no gradient. */
  marginals(emissions: Tensor, mask?: MaskInput): Tensor {
    const op = 'CRF.marginals';
    return noGrad(() =>
      tidy(() => {
        const { maskTensor } = this.readMask(op, emissions, mask);
        const s = this.scores('decode');
        return crfMarginals(emissions, maskTensor, s.transitions, s.start, s.end);
      }),
    );
  }

  override dispose(): void {
    super.dispose();
    this.freeConstraints();
  }

  // ---------- helpers ----------

  /** The parameters plus the constraint penalties where they apply ('train' only in 'train+decode' mode). */
  private scores(use: 'train' | 'decode'): Scores {
    const c = this.constraint;
    if (!c || (use === 'train' && c.mode === 'decode')) return { transitions: this.transitions, start: this.startTransitions, end: this.endTransitions };
    return { transitions: add(this.transitions, c.penalty.transitions), start: add(this.startTransitions, c.penalty.start), end: add(this.endTransitions, c.penalty.end) };
  }

  private freeConstraints(): void {
    if (!this.constraint) return;
    for (const t of Object.values(this.constraint.penalty)) t.dispose();
    this.constraint = null;
  }

  private tagName(tag: number): string {
    const label = this.constraint?.labels?.[tag];
    return label === undefined ? `tag ${tag}` : `${label} (tag ${tag})`;
  }

  /** Checks emissions and the mask (0/1, starts with 1, a prefix of ones); the mask as an f32 tensor and the lengths. */
  private readMask(op: string, emissions: Tensor, mask: MaskInput | undefined): { maskTensor: Tensor; lengths: number[] } {
    const { values, lengths } = this.checkMask(op, emissions, mask);
    return { maskTensor: tensor(values, emissions.shape.slice(0, 2), { backend: emissions.backend }), lengths };
  }

  private checkMask(op: string, emissions: Tensor, mask: MaskInput | undefined): { values: Float32Array; lengths: number[] } {
    if (!(emissions instanceof Tensor) || emissions.dtype !== 'f32' || emissions.rank !== 3 || emissions.shape.some((d) => d === 0)) {
      const what = emissions instanceof Tensor ? `${emissions.dtype} ${fmt(emissions.shape)}` : typeof emissions;
      throw new Error(`${op}: emissions must be an f32 tensor [batch, steps, tags] with no empty dimension, got ${what}`);
    }
    const [B, T, C] = emissions.shape as [number, number, number];
    if (C !== this.numTags) throw new Error(`${op}: emissions ${fmt(emissions.shape)} have ${C} tags but the CRF has ${this.numTags}`);
    const values = mask === undefined ? new Float32Array(B * T).fill(1) : Float32Array.from(readInput(op, 'mask', mask, [B, T]));
    const lengths = new Array<number>(B).fill(0);
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        const v = values[b * T + t]!;
        if (v !== 0 && v !== 1) throw new Error(`${op}: mask[${b}][${t}] is ${v}; mask values must be 0 or 1`);
        if (t === 0 && v === 0) throw new Error(`${op}: mask[${b}][0] is 0; every sequence must start with an unmasked token`);
        if (v === 1 && lengths[b] !== t) throw new Error(`${op}: mask[${b}] is not a prefix of ones: mask[${b}][${t}] is 1 after mask[${b}][${lengths[b]}] is 0`);
        if (v === 1) lengths[b]!++;
      }
    }
    return { values, lengths };
  }
}

/** Partial labels are rank 3 ([B,T,C]), tags rank 2 ([B,T]). */
function isAllowedTags(op: string, target: TagsInput | AllowedTagsInput): target is AllowedTagsInput {
  if (target instanceof Tensor) {
    if (target.rank === 2 || target.rank === 3) return target.rank === 3;
    throw new Error(`${op}: tags must be [batch, steps] (or allowed tags [batch, steps, tags]), got ${fmt(target.shape)}`);
  }
  const firstRow = (target as ArrayLike<unknown>[])[0];
  return firstRow !== undefined && typeof firstRow[0] === 'object' && firstRow[0] !== null;
}

/** Host values of a tensor or nested arrays of the given shape, with errors that say where the shape breaks. */
function readInput(op: string, name: string, input: Tensor | ArrayLike<unknown>, shape: number[]): ArrayLike<number> {
  if (input instanceof Tensor) {
    if (!sameShape(input.shape, shape)) throw new Error(`${op}: ${name} has shape ${fmt(input.shape)}; it must be ${fmt(shape)} to match the emissions`);
    try {
      return input.dataSync();
    } catch (error) {
      throw new Error(`${op}: ${name} is checked on the host; on the ${input.backend.name} backend pass it as nested arrays (${(error as Error).message})`);
    }
  }
  const flat: number[] = [];
  const walk = (value: unknown, depth: number, where: string): void => {
    if (depth === shape.length) {
      if (typeof value !== 'number') throw new Error(`${op}: ${name}${where} is ${typeof value}, not a number`);
      flat.push(value);
      return;
    }
    const rows = value as ArrayLike<unknown> | null | undefined;
    if (typeof rows !== 'object' || rows === null || typeof rows.length !== 'number') {
      throw new Error(`${op}: ${name}${where} is not an array; ${name} must be ${fmt(shape)} to match the emissions`);
    }
    if (rows.length !== shape[depth]) throw new Error(`${op}: ${name}${where} has length ${rows.length}; ${name} must be ${fmt(shape)} to match the emissions`);
    for (let i = 0; i < rows.length; i++) walk(rows[i], depth + 1, `${where}[${i}]`);
  };
  walk(input, 0, '');
  return flat;
}
