// Tag sentences with a model and score them as seqeval does. Shared by training
// (dev after each epoch), `medner eval` and `medner predict`.

import type { Backend } from '../backend/backend.js';
import type { Sentence } from '../data/types.js';
import { entityScores, type EntityScores } from '../metrics/scores.js';
import { tidy } from '../tensor/scope.js';
import { noGrad } from '../autograd/grad-mode.js';
import { disposeBatch } from '../models/batch.js';
import { headDecode, maskRows } from '../models/head.js';
import { chunkSentences, mergeChunks, type SentenceEncoder } from './encode.js';
import type { NerModel } from './model-factory.js';

export interface TaggedSentences {
  tags: string[][];
  /** Per-word confidence: the CRF marginal of the predicted tag, or the softmax probability. */
  confidences: number[][] | null;
  /** Per word, the whole posterior over the labels (CRF marginals or softmax), when asked for: the forward-backward picture. */
  distributions: number[][][] | null;
}

/**
 * Most padded words in one batch: long windows (a text with no sentence end) go a few at a time, so the
 * memory of a batch stays bounded whatever the input; ordinary sentences fill whole batches long before this.
 */
const MAX_BATCH_WORDS = 16_384;

/** Batches of chunk indices, longest first within the list so padding stays small. */
function batchesByLength(lengths: number[], batchSize: number): number[][] {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[b]! - lengths[a]!);
  const batches: number[][] = [];
  for (let i = 0; i < order.length; ) {
    // The first chunk of a batch is its longest: it sets the padded width.
    const size = Math.max(1, Math.min(batchSize, Math.floor(MAX_BATCH_WORDS / Math.max(1, lengths[order[i]!]!))));
    batches.push(order.slice(i, i + size));
    i += size;
  }
  return batches;
}

export async function tagSentences(model: NerModel, encoder: SentenceEncoder, labels: readonly string[], sentences: readonly Sentence[], backend: Backend, options: { batchSize?: number; confidences?: boolean; distributions?: boolean } = {}): Promise<TaggedSentences> {
  model.eval();
  // Empty sentences have nothing to tag; they come back as empty tag lists.
  const chunks = chunkSentences(sentences, encoder).filter((c) => c.tokens.length > 0);
  const predictions: number[][] = new Array(chunks.length);
  const confidences: number[][] = new Array(chunks.length);
  const distributions: number[][][] = new Array(chunks.length);
  const wantPosteriors = options.confidences || options.distributions;
  for (const indices of batchesByLength(chunks.map((c) => c.tokens.length), options.batchSize ?? 64)) {
    const encoded = tidy(() => encoder.encode(indices.map((i) => chunks[i]!), null, backend));
    try {
      if (!wantPosteriors) {
        const paths = await model.predict(encoded.batch);
        indices.forEach((chunk, b) => (predictions[chunk] = paths[b]!));
        continue;
      }
      // Tags and confidences from one forward pass: the emissions that model.predict would compute (eval
      // mode), decoded by the model's head, then CRF marginals (or softmax) of the same emissions.
      const { emissions, lengths } = noGrad(() => tidy(() => model.emissions(encoded.batch, 'tagSentences')));
      try {
        const paths = await headDecode(model.crf ? 'crf' : 'softmax', model.crf, emissions, lengths);
        indices.forEach((chunk, b) => (predictions[chunk] = paths[b]!));
        const T = emissions.shape[1]!;
        const probabilities = noGrad(() => tidy(() => (model.crf ? model.crf.marginals(emissions, maskRows(lengths, T)) : emissions.softmax(-1))));
        const values = await probabilities.data();
        const C = probabilities.shape[2]!;
        probabilities.dispose();
        indices.forEach((chunk, b) => (confidences[chunk] = paths[b]!.map((tag, t) => values[(b * T + t) * C + tag]!)));
        if (options.distributions) indices.forEach((chunk, b) => (distributions[chunk] = paths[b]!.map((_, t) => Array.from(values.subarray((b * T + t) * C, (b * T + t + 1) * C)))));
      } finally {
        emissions.dispose();
      }
    } finally {
      disposeBatch(encoded.batch);
    }
  }
  model.train();
  const tags = mergeChunks(sentences, chunks, predictions.map((p) => p.map((id) => labels[id]!)));
  return {
    tags,
    confidences: options.confidences ? mergeChunks(sentences, chunks, confidences) : null,
    distributions: options.distributions ? mergeChunks(sentences, chunks, distributions) : null,
  };
}

export async function evaluate(model: NerModel, encoder: SentenceEncoder, labels: readonly string[], sentences: readonly Sentence[], backend: Backend, scheme: 'BIO' | 'BIOES'): Promise<{ scores: EntityScores; predicted: string[][] }> {
  const { tags } = await tagSentences(model, encoder, labels, sentences, backend);
  const scores = entityScores(sentences.map((s) => s.tags), tags, { mode: 'default', scheme });
  return { scores, predicted: tags };
}
