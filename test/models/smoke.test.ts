// Smoke test (issue 4, item 6): BiLSTM-CRF and a 2-layer BERT-BiLSTM-CRF each fit 20 real
// sentences of the NCBI-disease sample (test/fixtures/data) — loss down by 90% or train
// entity F1 = 1.0 — well within 30 s on a 2-core CPU.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { manualSeed, tensor, tidy, type Tensor } from '../../src/index.js';
import { parseConll } from '../../src/data/conll.js';
import { f1Score } from '../../src/metrics/scores.js';
import { AdamW } from '../../src/optim/index.js';
import { BertBiLstmCrf, BiLstmCrf, type NerBatch } from '../../src/models/index.js';
import { encoderConfig } from '../../src/nn/index.js';

const sentences = parseConll(readFileSync(new URL('../fixtures/data/ncbi-disease/sample.iob.tsv', import.meta.url), 'utf8')).slice(0, 20);
const labels = [...new Set(sentences.flatMap((s) => s.tags))].sort();
const T = Math.max(...sentences.map((s) => s.tokens.length));
const B = sentences.length;

function vocabulary(items: string[]): Map<string, number> {
  const map = new Map<string, number>([['[PAD]', 0]]);
  for (const item of items) if (!map.has(item)) map.set(item, map.size);
  return map;
}

function padded(rows: number[][], width: number, dtype: 'i32' | 'f32'): Tensor {
  const values = new (dtype === 'i32' ? Int32Array : Float32Array)(rows.length * width);
  rows.forEach((row, b) => values.set(row, b * width));
  return tensor(values, [rows.length, width], { dtype });
}

const wordMask = () => padded(sentences.map((s) => s.tokens.map(() => 1)), T, 'f32');
const goldTags = () => padded(sentences.map((s) => s.tags.map((t) => labels.indexOf(t))), T, 'i32');

/** Trains full-batch until the loss falls by 90% or every sentence is tagged right; returns what happened. */
async function fit(model: BiLstmCrf | BertBiLstmCrf, batch: NerBatch, lr: number, maxSteps: number, encoderLr = lr) {
  // Two parameter groups, as BERT taggers are usually trained: a gentler rate for the encoder.
  const named = model.namedParameters();
  const groups = [
    { name: 'encoder', params: named.filter(([n]) => n.startsWith('bert.')), lr: encoderLr },
    { name: 'head', params: named.filter(([n]) => !n.startsWith('bert.')), lr },
  ].filter((g) => g.params.length > 0);
  const optimizer = new AdamW(groups, { lr, weightDecay: 0 });
  const started = performance.now();
  let first = NaN;
  let last = NaN;
  let f1 = 0;
  let steps = 0;
  for (; steps < maxSteps; steps++) {
    last = tidy(() => {
      optimizer.zeroGrad();
      const loss = model.loss(batch);
      loss.backward();
      optimizer.step();
      return loss.dataSync()[0]!;
    });
    if (steps === 0) first = last;
    if (last < 0.1 * first || steps % 10 === 9) {
      const predicted = (await model.predict(batch)).map((path) => path.map((tag) => labels[tag]!));
      f1 = f1Score(sentences.map((s) => s.tags), predicted);
      if (last < 0.1 * first || f1 === 1) break;
    }
  }
  return { first, last, f1, steps: steps + 1, seconds: (performance.now() - started) / 1000 };
}

describe('smoke: models fit 20 NCBI-disease sentences', () => {
  it('BiLSTM-CRF with char-CNN features', async () => {
    manualSeed(1);
    const words = vocabulary(sentences.flatMap((s) => s.tokens.map((w) => w.toLowerCase())));
    const chars = vocabulary(sentences.flatMap((s) => s.tokens.flatMap((w) => [...w])));
    const L = Math.max(...sentences.flatMap((s) => s.tokens.map((w) => w.length)));
    const charValues = new Int32Array(B * T * L);
    sentences.forEach((s, b) => s.tokens.forEach((w, t) => [...w].forEach((c, l) => (charValues[(b * T + t) * L + l] = chars.get(c)!))));
    const batch: NerBatch = {
      wordIds: padded(sentences.map((s) => s.tokens.map((w) => words.get(w.toLowerCase())!)), T, 'i32'),
      charIds: tensor(charValues, [B, T, L], { dtype: 'i32' }),
      wordMask: wordMask(),
      tags: goldTags(),
    };
    const model = new BiLstmCrf({ vocabSize: words.size, numTags: labels.length, wordDim: 32, hiddenSize: 32, chars: { numChars: chars.size, charDim: 16, filters: 16 }, dropout: 0 });
    const result = await fit(model, batch, 0.02, 150);
    console.log(`BiLSTM-CRF: loss ${result.first.toFixed(3)} -> ${result.last.toFixed(3)}, train F1 ${result.f1.toFixed(3)}, ${result.steps} steps, ${result.seconds.toFixed(1)} s`);
    expect(result.last < 0.1 * result.first || result.f1 === 1).toBe(true);
    expect(result.seconds).toBeLessThan(30);
    model.dispose();
  }, 60_000);

  it('2-layer BERT-BiLSTM-CRF over WordPiece-like subwords (first-subword pooling)', async () => {
    manualSeed(2);
    // Toy WordPiece: words longer than 6 characters become two subwords, so word starts
    // and first-subword pooling are exercised as with a real tokenizer.
    const pieces = (w: string) => (w.length > 6 ? [w.slice(0, 4).toLowerCase(), '##' + w.slice(4).toLowerCase()] : [w.toLowerCase()]);
    const vocab = vocabulary(['[CLS]', '[SEP]', ...sentences.flatMap((s) => s.tokens.flatMap(pieces))]);
    const rows = sentences.map((s) => {
      const ids = [vocab.get('[CLS]')!];
      const starts: number[] = [];
      for (const w of s.tokens) {
        starts.push(ids.length);
        ids.push(...pieces(w).map((p) => vocab.get(p)!));
      }
      ids.push(vocab.get('[SEP]')!);
      return { ids, starts };
    });
    const S = Math.max(...rows.map((r) => r.ids.length));
    const batch: NerBatch = {
      subwordIds: padded(rows.map((r) => r.ids), S, 'i32'),
      attentionMask: padded(rows.map((r) => r.ids.map(() => 1)), S, 'f32'),
      wordStarts: padded(rows.map((r) => r.starts), T, 'i32'),
      wordMask: wordMask(),
      tags: goldTags(),
    };
    const encoder = encoderConfig({ vocabSize: vocab.size, hiddenSize: 32, numLayers: 2, numHeads: 2, intermediateSize: 64, maxPositions: 128, hiddenDropout: 0, attentionDropout: 0 });
    const model = new BertBiLstmCrf({ encoder, numTags: labels.length, lstmHidden: 16 });
    const result = await fit(model, batch, 2e-2, 150, 5e-3);
    console.log(`BERT-BiLSTM-CRF: loss ${result.first.toFixed(3)} -> ${result.last.toFixed(3)}, train F1 ${result.f1.toFixed(3)}, ${result.steps} steps, ${result.seconds.toFixed(1)} s`);
    expect(result.last < 0.1 * result.first || result.f1 === 1).toBe(true);
    expect(result.seconds).toBeLessThan(30);
    model.dispose();
  }, 60_000);
});
