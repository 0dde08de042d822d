// The taggers: heads ('softmax' | 'crf'), pooling ('first' | 'mean'), BERT-softmax and BERT-CRF
// training, parameter names, and the bad-input errors that say what and where.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpuBackend, manualSeed, ops, setBackend, tensor, tidy } from '../../src/index.js';
import { BertCrf, BertSoftmax, BertTagger, BiLstmCrf, firstSubwordPooling, meanSubwordPooling, wordSpans, type NerBatch } from '../../src/models/index.js';
import { AdamW } from '../../src/optim/index.js';
import { encoderConfig } from '../../src/nn/index.js';
import { expectClose } from '../helpers/gradcheck.js';
import { backends, readBack } from '../nn/backends.js';

const encoder = encoderConfig({ vocabSize: 16, hiddenSize: 8, numLayers: 1, numHeads: 2, intermediateSize: 16, maxPositions: 8, hiddenDropout: 0, attentionDropout: 0 });

/** Two sentences: [CLS] a b b' c [SEP] and [CLS] d e [SEP] + padding; 3 and 2 words. */
function bertBatch(overrides: Partial<Record<keyof NerBatch, unknown>> = {}): NerBatch {
  return {
    subwordIds: tensor([1, 4, 5, 6, 7, 2, 1, 8, 9, 2, 0, 0], [2, 6], { dtype: 'i32' }),
    attentionMask: tensor([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0], [2, 6]),
    wordStarts: tensor([1, 2, 4, 1, 2, 0], [2, 3], { dtype: 'i32' }),
    wordMask: tensor([1, 1, 1, 1, 1, 0], [2, 3]),
    tags: tensor([0, 1, 2, 2, 0, 0], [2, 3], { dtype: 'i32' }),
    ...overrides,
  } as NerBatch;
}

function wordBatch(overrides: Partial<Record<keyof NerBatch, unknown>> = {}): NerBatch {
  return {
    wordIds: tensor([1, 2, 3, 4, 5, 0], [2, 3], { dtype: 'i32' }),
    wordMask: tensor([1, 1, 1, 1, 1, 0], [2, 3]),
    tags: tensor([0, 1, 2, 2, 0, 0], [2, 3], { dtype: 'i32' }),
    ...overrides,
  } as NerBatch;
}

// The host copies src/train/encode.ts adds to every batch: with them the models read nothing
// back, so the same batches run on WebGPU. (The bad-input tests below leave them out, so the
// CPU backend reads the bad tensors themselves.)
const bertHost = { lengths: [3, 2], subwordLengths: [6, 4], hostTags: [[0, 1, 2], [2, 0]], hostWordStarts: [[1, 2, 4], [1, 2]] };
const wordHost = { lengths: [3, 2], hostTags: [[0, 1, 2], [2, 0]] };

async function trains(model: BertTagger | BiLstmCrf, batch: NerBatch, steps = 30): Promise<{ first: number; last: number; paths: number[][] }> {
  const optimizer = new AdamW(model.namedParameters(), { lr: 0.02, weightDecay: 0 });
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) {
    const loss = tidy(() => {
      optimizer.zeroGrad();
      const l = model.loss(batch);
      l.backward();
      optimizer.step();
      return l;
    });
    losses.push((await loss.data())[0]!);
    loss.dispose();
  }
  optimizer.dispose();
  return { first: losses[0]!, last: losses[losses.length - 1]!, paths: await model.predict(batch) };
}

describe.each(backends)('taggers on %s', (_name, backend) => {
  beforeAll(() => setBackend(backend));
  afterAll(() => setBackend(cpuBackend));

  it('BERT-softmax and BERT-CRF fit two sentences; predictions are trimmed to each length', async () => {
    for (const Model of [BertSoftmax, BertCrf]) {
      manualSeed(1);
      const model = new Model({ encoder, numTags: 3 });
      const { first, last, paths } = await trains(model, bertBatch(bertHost));
      expect(last).toBeLessThan(first * 0.2);
      expect(paths).toEqual([[0, 1, 2], [2, 0]]);
      model.dispose();
    }
  });

  it('HF names: bert.*, classifier.*, crf.* (pytorch-crf), lstm.* (torch)', () => {
    const model = new BertTagger({ encoder, numTags: 3, lstmHidden: 4 });
    const names = model.namedParameters().map(([n]) => n);
    expect(names).toContain('bert.embeddings.word_embeddings.weight');
    expect(names).toContain('bert.encoder.layer.0.attention.self.query.weight');
    expect(names).toContain('lstm.weight_hh_l0_reverse');
    expect(names.slice(-5)).toEqual(['classifier.weight', 'classifier.bias', 'crf.transitions', 'crf.start_transitions', 'crf.end_transitions']);
    model.dispose();
  });

  it('softmax head: mean cross-entropy over real words only', async () => {
    manualSeed(2);
    const model = new BiLstmCrf({ vocabSize: 8, numTags: 3, wordDim: 4, hiddenSize: 3, head: 'softmax', dropout: 0 });
    const batch = wordBatch(wordHost);
    const logp = await readBack(() => ops.logSoftmax(model.emissions(batch).emissions, -1));
    const gold = [0, 1, 2, 2, 0];
    const positions = [0, 1, 2, 3, 4]; // b*T + t of the five real words
    const expected = -positions.reduce((s, p, i) => s + logp[p * 3 + gold[i]!]!, 0) / 5;
    expectClose(await readBack(() => model.loss(batch)), [expected], 1e-5);
    model.dispose();
  });

  it('BiLSTM-CRF with char features fits two sentences', async () => {
    manualSeed(3);
    const model = new BiLstmCrf({ vocabSize: 8, numTags: 3, wordDim: 8, hiddenSize: 8, chars: { numChars: 5, charDim: 4, filters: 4 }, dropout: 0 });
    const batch = wordBatch({ ...wordHost, charIds: tensor([1, 2, 0, 3, 0, 0, 4, 4, 1, 2, 2, 0, 3, 1, 0, 0, 0, 0], [2, 3, 3], { dtype: 'i32' }) });
    const { first, last, paths } = await trains(model, batch, 40);
    expect(last).toBeLessThan(first * 0.2);
    expect(paths).toEqual([[0, 1, 2], [2, 0]]);
    model.dispose();
  });

  it('first and mean subword pooling', async () => {
    // hidden [1, 5, 1] = subwords 0..4 with values 10..14; words at subwords 1 and 2-3.
    const hidden = tensor([10, 11, 12, 13, 14], [1, 5, 1]);
    const starts = Int32Array.from([1, 2]);
    expect(Array.from(await readBack(() => firstSubwordPooling(hidden, starts, [2], 2)))).toEqual([11, 12]);
    const ends = wordSpans(starts, null, [2], [5], 2, 'test'); // last word ends before [SEP] at 4
    expect(Array.from(ends)).toEqual([2, 4]);
    expectClose(await readBack(() => meanSubwordPooling(hidden, starts, ends, [2], 2)), [11, 12.5]);
    hidden.dispose();
  });

  it('mean pooling trains a BERT-CRF as well', async () => {
    manualSeed(4);
    const model = new BertCrf({ encoder, numTags: 3, pooling: 'mean' });
    const { first, last } = await trains(model, bertBatch(bertHost), 20);
    expect(last).toBeLessThan(first * 0.5);
    model.dispose();
  });
});

describe('bad input: errors say what and where', () => {
  const bertModel = new BertCrf({ encoder, numTags: 3 });
  const lstmModel = new BiLstmCrf({ vocabSize: 8, numTags: 3, wordDim: 4, hiddenSize: 3 });

  it('tags outside the label set', () => {
    expect(() => bertModel.loss(bertBatch({ tags: tensor([0, 1, 5, 2, 0, 0], [2, 3], { dtype: 'i32' }) }))).toThrow(/BertCrf.loss: tags\[0\]\[2\] is 5, outside the label set \[0, 3\)/);
    expect(() => lstmModel.loss(wordBatch({ tags: tensor([0, 1, 2, -1, 0, 0], [2, 3], { dtype: 'i32' }) }))).toThrow(/BiLstmCrf.loss: tags\[1\]\[0\] is -1, outside the label set/);
  });

  it('masks whose first position is off, or that are not a prefix of ones', () => {
    expect(() => lstmModel.loss(wordBatch({ wordMask: tensor([1, 1, 1, 0, 1, 0], [2, 3]) }))).toThrow(/wordMask: mask row 1 has a 1 at position 1 after a 0 at position 0/);
    expect(() => lstmModel.loss(wordBatch({ wordMask: tensor([0, 0, 0, 1, 1, 0], [2, 3]) }))).toThrow(/wordMask: mask row 0 starts with 0/);
    expect(() => bertModel.loss(bertBatch({ attentionMask: tensor([0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0], [2, 6]) }))).toThrow(/attentionMask: mask row 0 has a 1 at position 1 after a 0/);
  });

  it('sequences longer than the position table', () => {
    const ids = tensor(Int32Array.from({ length: 9 }, (_, i) => (i % 14) + 1), [1, 9], { dtype: 'i32' });
    const batch = { subwordIds: ids, attentionMask: tensor(new Float32Array(9).fill(1), [1, 9]), wordStarts: tensor([1, 2], [1, 2], { dtype: 'i32' }), wordMask: tensor([1, 1], [1, 2]), tags: tensor([0, 0], [1, 2], { dtype: 'i32' }) };
    expect(() => bertModel.loss(batch)).toThrow(/9 subwords per sentence, more than BERT's position table \(max_position_embeddings = 8\)/);
  });

  it('wrong shapes and missing fields', () => {
    expect(() => lstmModel.loss(wordBatch({ tags: tensor([0, 1, 2, 2], [2, 2], { dtype: 'i32' }) }))).toThrow(/tags must be i32 \[2, 3\], got i32 \[2, 2\]/);
    expect(() => lstmModel.loss(wordBatch({ wordIds: tensor([1, 2, 3, 4, 5, 0], [2, 3]) }))).toThrow(/wordIds must be i32 \[2, 3\], got f32/);
    expect(() => lstmModel.loss(wordBatch({ tags: undefined }))).toThrow(/BiLstmCrf.loss: the batch has no tags/);
    expect(() => bertModel.loss(bertBatch({ wordStarts: undefined }))).toThrow(/the batch has no wordStarts/);
    expect(() => bertModel.loss(bertBatch({ attentionMask: tensor(new Float32Array(10).fill(1), [2, 5]) }))).toThrow(/attentionMask must be f32 \[2, 6\], got f32 \[2, 5\]/);
  });

  it('word starts outside the attended subwords', () => {
    expect(() => bertModel.loss(bertBatch({ wordStarts: tensor([1, 2, 4, 1, 7, 0], [2, 3], { dtype: 'i32' }) }))).toThrow(/wordStarts\[1\]\[1\] is 7, but sentence 1 has attended subwords 0..3/);
  });

  it('word ids outside the vocabulary', () => {
    expect(() => lstmModel.loss(wordBatch({ wordIds: tensor([1, 2, 9, 4, 5, 0], [2, 3], { dtype: 'i32' }) }))).toThrow(/wordIds: id 9 at position \[0, 2\] of ids \[2, 3\] is outside the table of 8 rows/);
  });
});
