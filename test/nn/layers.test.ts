// Layer behaviour beyond the PyTorch fixtures: parameter names, initialisation, padding that
// never leaks into real positions (attention keys, LSTM states), finite-difference gradients
// of the LSTM recurrence op and the char-CNN, dropout modes, and memory released by scopes.

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng, cpuBackend, manualSeed, noGrad, ops, setBackend, tensor, tidy, type Tensor } from '../../src/index.js';
import { BertModel, CharCNN, Dropout, Embedding, LSTM, Linear, MultiHeadAttention, encoderConfig, lstmRecurrence } from '../../src/nn/index.js';
import { gradcheckAsync, expectClose } from '../helpers/gradcheck.js';
import { backends, readBack } from './backends.js';

/**
 * Finite differences on a module's parameters (test/helpers/gradcheck checks function inputs).
 * Reads are asynchronous, so it runs on every backend.
 */
async function moduleGradcheck(fn: () => Tensor, params: [string, Tensor][], seed: number): Promise<void> {
  const rng = new Rng(seed);
  const outShape = tidy(() => fn().shape);
  const weights = Float32Array.from({ length: outShape.reduce((a, b) => a * b, 1) }, () => rng.uniform(-1, 1));
  const objective = async () => {
    const values = await readBack(() => fn());
    return values.reduce((acc, v, i) => acc + v * weights[i]!, 0);
  };
  tidy(() => {
    ops.sum(ops.mul(fn(), tensor(weights, outShape))).backward();
    return null;
  });
  for (const [name, p] of params) {
    const analytic = await p.grad!.data();
    const base = Float32Array.from(await p.data());
    for (let j = 0; j < p.size; j++) {
      const at = async (delta: number) => {
        const copy = Float32Array.from(base);
        copy[j]! += delta;
        tidy(() => void p.assign(tensor(copy, p.shape)));
        return objective();
      };
      const numeric = ((await at(1e-2)) - (await at(-1e-2))) / 2e-2;
      tidy(() => void p.assign(tensor(base, p.shape)));
      if (Math.abs(numeric - analytic[j]!) > 5e-3 + 2e-2 * Math.abs(numeric)) expect.fail(`${name}[${j}]: autodiff ${analytic[j]} vs finite difference ${numeric}`);
    }
    p.zeroGrad();
  }
}

const tiny = encoderConfig({ vocabSize: 20, hiddenSize: 8, numLayers: 1, numHeads: 2, intermediateSize: 16, maxPositions: 10, typeVocabSize: 2 });

function stats(values: ArrayLike<number>) {
  let sum = 0;
  let sq = 0;
  let maxAbs = 0;
  for (let i = 0; i < values.length; i++) {
    sum += values[i]!;
    sq += values[i]! ** 2;
    maxAbs = Math.max(maxAbs, Math.abs(values[i]!));
  }
  const mean = sum / values.length;
  return { mean, std: Math.sqrt(sq / values.length - mean * mean), maxAbs };
}

describe.each(backends)('layers on %s', (_name, backend) => {
  beforeAll(() => setBackend(backend));
  afterAll(() => setBackend(cpuBackend));

  it('BertModel uses Hugging Face parameter names and shapes', () => {
    const bert = new BertModel(tiny, { addPooler: true });
    const shapes = Object.fromEntries(bert.namedParameters().map(([n, t]) => [n, t.shape.join('x')]));
    const layer = 'encoder.layer.0.';
    expect(shapes).toEqual({
      'embeddings.word_embeddings.weight': '20x8',
      'embeddings.position_embeddings.weight': '10x8',
      'embeddings.token_type_embeddings.weight': '2x8',
      'embeddings.LayerNorm.weight': '8',
      'embeddings.LayerNorm.bias': '8',
      ...Object.fromEntries(
        ['attention.self.query', 'attention.self.key', 'attention.self.value', 'attention.output.dense'].flatMap((m) => [
          [`${layer}${m}.weight`, '8x8'],
          [`${layer}${m}.bias`, '8'],
        ]),
      ),
      [`${layer}attention.output.LayerNorm.weight`]: '8',
      [`${layer}attention.output.LayerNorm.bias`]: '8',
      [`${layer}intermediate.dense.weight`]: '16x8',
      [`${layer}intermediate.dense.bias`]: '16',
      [`${layer}output.dense.weight`]: '8x16',
      [`${layer}output.dense.bias`]: '8',
      [`${layer}output.LayerNorm.weight`]: '8',
      [`${layer}output.LayerNorm.bias`]: '8',
      'pooler.dense.weight': '8x8',
      'pooler.dense.bias': '8',
    });
    bert.dispose();
  });

  it('LSTM uses PyTorch parameter names', () => {
    const lstm = new LSTM(3, 4, { numLayers: 2, bidirectional: true });
    const names = lstm.namedParameters().map(([n, t]) => `${n}:${t.shape.join('x')}`);
    expect(names).toEqual([
      'weight_ih_l0:16x3', 'weight_hh_l0:16x4', 'bias_ih_l0:16', 'bias_hh_l0:16',
      'weight_ih_l0_reverse:16x3', 'weight_hh_l0_reverse:16x4', 'bias_ih_l0_reverse:16', 'bias_hh_l0_reverse:16',
      'weight_ih_l1:16x8', 'weight_hh_l1:16x4', 'bias_ih_l1:16', 'bias_hh_l1:16',
      'weight_ih_l1_reverse:16x8', 'weight_hh_l1_reverse:16x4', 'bias_ih_l1_reverse:16', 'bias_hh_l1_reverse:16',
    ]);
    expect(lstm.outputSize).toBe(8);
    lstm.dispose();
  });

  it('initialises as PyTorch / Hugging Face, reproducibly from the seed', async () => {
    manualSeed(5);
    const linear = new Linear(64, 32);
    const w = stats(await linear.weight.data());
    expect(w.maxAbs).toBeLessThanOrEqual(1 / 8); // kaiming-uniform(a=sqrt(5)): bound 1/sqrt(fan_in)
    expect(w.std).toBeCloseTo(1 / 8 / Math.sqrt(3), 2);
    const bert = new BertModel(encoderConfig({ ...tiny, hiddenSize: 32, intermediateSize: 64 }));
    const q = stats(await bert.encoder.layer[0]!.attention.self.query.weight.data());
    expect(q.std).toBeGreaterThan(0.018);
    expect(q.std).toBeLessThan(0.022);
    expect(Array.from(await bert.encoder.layer[0]!.attention.self.query.bias!.data()).every((v) => v === 0)).toBe(true);
    expect(Array.from(await bert.embeddings.LayerNorm.weight.data()).every((v) => v === 1)).toBe(true);
    // pad_token_id 0: HF zeroes the padding row of the word embeddings.
    expect(Array.from((await bert.embeddings.word_embeddings.weight.data()).subarray(0, 32)).every((v) => v === 0)).toBe(true);
    const lstm = new LSTM(4, 16);
    for (const [, p] of lstm.namedParameters()) expect(stats(await p.data()).maxAbs).toBeLessThanOrEqual(0.25);
    manualSeed(5);
    const again = new Linear(64, 32);
    expect(Array.from(await again.weight.data())).toEqual(Array.from(await linear.weight.data()));
    for (const m of [linear, again, bert, lstm]) m.dispose();
  });

  it('attention: values at padded key positions never reach real positions', async () => {
    manualSeed(3);
    const attention = new MultiHeadAttention({ hiddenSize: 8, numHeads: 2 });
    const rng = new Rng(4);
    const x = Float32Array.from({ length: 2 * 5 * 8 }, () => rng.normal());
    const mask = tensor([1, 1, 1, 1, 1, 1, 1, 1, 0, 0], [2, 5]);
    const run = (values: Float32Array) => readBack(() => attention.forward(tensor(values, [2, 5, 8]), mask));
    const before = await run(x);
    const changed = Float32Array.from(x);
    for (let i = (5 + 3) * 8; i < 10 * 8; i++) changed[i] = 100 * rng.normal(); // sentence 1, positions 3..4
    const after = await run(changed);
    expectClose(after.subarray(0, 8 * 8), before.subarray(0, 8 * 8), 1e-6); // sentence 0 and sentence 1's real positions
    attention.dispose();
  });

  it('LSTM: padding never reaches a state; padded outputs are 0; a batch equals its sentences run alone', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 3 }), fc.integer({ min: 0, max: 1000 }), async (lengths, seed) => {
        manualSeed(seed);
        const lstm = new LSTM(3, 4, { numLayers: 2, bidirectional: true });
        const T = Math.max(...lengths);
        const rng = new Rng(seed);
        const x = Float32Array.from({ length: lengths.length * T * 3 }, () => rng.normal());
        try {
          const batched = await readBack(() => lstm.forward(tensor(x, [lengths.length, T, 3]), lengths));
          for (const [b, length] of lengths.entries()) {
            const alone = await readBack(() => lstm.forward(tensor(x.subarray(b * T * 3, (b * T + length) * 3), [1, length, 3]), [length]));
            expectClose(batched.subarray(b * T * 8, (b * T + length) * 8), alone, 1e-5);
            for (let i = (b * T + length) * 8; i < (b + 1) * T * 8; i++) expect(batched[i] === 0).toBe(true);
          }
        } finally {
          lstm.dispose();
        }
      }),
      { numRuns: 15 },
    );
  });

  it('lstmRecurrence: explicit BPTT matches finite differences', async () => {
    // packed xProj [N=6 rows in steps of 3, 2, 1; 4H=8], weightHH [8, 2]
    await gradcheckAsync(([xProj, weightHH]) => lstmRecurrence(xProj!, weightHH!, [3, 2, 1]), [{ shape: [6, 8], low: -1, high: 1 }, { shape: [8, 2], low: -1, high: 1 }], 11);
  });

  it('LSTM gradients with variable lengths match finite differences', async () => {
    manualSeed(9);
    const lstm = new LSTM(2, 3, { bidirectional: true });
    await gradcheckAsync(([x]) => lstm.forward(x!, [3, 1]), [{ shape: [2, 3, 2], low: -1, high: 1 }], 12);
    lstm.dispose();
  });

  it('CharCNN: shape, max over positions, gradients by finite differences', async () => {
    manualSeed(4);
    const cnn = new CharCNN({ numChars: 6, charDim: 3, filters: 4, kernelSize: 3 });
    // No repeated windows: at a tie of the max the gradient is a subgradient and differences disagree.
    const ids = tensor([1, 2, 3, 0, 4, 5, 0, 0, 2, 3, 1, 4], [1, 3, 4], { dtype: 'i32' });
    tidy(() => {
      const features = cnn.forward(ids);
      expect(features.shape).toEqual([1, 3, 4]);
      return null;
    });
    await moduleGradcheck(() => cnn.forward(ids), cnn.namedParameters(), 13);
    cnn.dispose();
  });

  it('CharCNN: the table lookup (CPU path) equals unfold + matmul, forward and gradients', async () => {
    manualSeed(5);
    const cnn = new CharCNN({ numChars: 7, charDim: 5, filters: 6, kernelSize: 5 });
    const ids = tensor([1, 2, 3, 0, 0, 4, 5, 6, 1, 2, 0, 0, 0, 0, 0, 3, 3, 1, 6, 0], [2, 2, 5], { dtype: 'i32' });
    const run = async (forward: () => Tensor) => {
      const r = tensor(Array.from({ length: 24 }, (_, i) => Math.sin(i + 1)), [2, 2, 6]);
      const y = forward();
      const values = Array.from(await y.data());
      ops.sum(ops.mul(y, r)).backward();
      const grads = await Promise.all(cnn.parameters().map(async (p) => Array.from(await p.grad!.data())));
      cnn.zeroGrad();
      y.dispose();
      r.dispose();
      return { values, grads };
    };
    const table = await run(() => cnn.forward(ids));
    const unfold = await run(() => cnn.forwardByUnfold(ids));
    expect(table.values.length).toBe(24);
    table.values.forEach((v, i) => expect(v).toBeCloseTo(unfold.values[i]!, 5));
    table.grads.forEach((g, j) => g.forEach((v, i) => expect(v).toBeCloseTo(unfold.grads[j]![i]!, 5)));
    cnn.dispose();
  });

  it('Dropout: identity in eval mode, inverted scaling in training', async () => {
    const dropout = new Dropout(0.5);
    const x = tensor(new Float32Array(4000).fill(1), [4000]);
    const kept = Array.from(await readBack(() => dropout.forward(x)));
    expect(new Set(kept)).toEqual(new Set([0, 2]));
    expect(Math.abs(kept.filter((v) => v === 0).length / 4000 - 0.5)).toBeLessThan(0.05);
    dropout.eval();
    expect(dropout.forward(x)).toBe(x);
    x.dispose();
  });

  it('a training step of BERT + BiLSTM releases every temporary buffer', () => {
    manualSeed(6);
    const bert = new BertModel(tiny);
    const lstm = new LSTM(8, 4, { bidirectional: true });
    const ids = tensor([1, 2, 3, 4, 5, 6, 0, 0], [2, 4], { dtype: 'i32' });
    const mask = tensor([1, 1, 1, 1, 1, 1, 0, 0], [2, 4]);
    const step = () =>
      tidy(() => {
        const hidden = bert.forward(ids, { attentionMask: mask }).lastHiddenState;
        ops.sum(lstm.forward(hidden, [4, 2])).backward();
        return null;
      });
    // Two warm-up steps: after the first, bias_ih and bias_hh share one gradient buffer
    // (the gradient of their sum); accumulation gives each its own.
    step();
    step();
    const before = backend.liveBuffers();
    step(); // gradients accumulate into the existing .grad buffers: no new live buffers
    expect(backend.liveBuffers()).toBe(before);
    bert.zeroGrad();
    lstm.zeroGrad();
    bert.dispose();
    lstm.dispose();
  });
});

describe('bad input: errors say what and where', () => {
  it('Linear and Embedding', () => {
    const linear = new Linear(4, 2);
    expect(() => linear.forward(tensor(new Float32Array(6), [2, 3]))).toThrow(/Linear\(4 -> 2\): input \[2, 3\] must end in 4/);
    const embedding = new Embedding(5, 2);
    expect(() => embedding.forward(tensor([1, 7, 2], [1, 3], { dtype: 'i32' }))).toThrow(/id 7 at position \[0, 1\] of ids \[1, 3\] is outside the table of 5 rows/);
    expect(() => embedding.forward(tensor([1, 2], [2]))).toThrow(/ids must be i32/);
  });

  it('BERT: longer than the position table, mask off at [CLS], mask of the wrong shape', () => {
    const bert = new BertModel(tiny);
    const ids = (n: number) => tensor(Int32Array.from({ length: n }, (_, i) => i % 20), [1, n], { dtype: 'i32' });
    expect(() => bert.forward(ids(11))).toThrow(/sequence of 11 subwords is longer than the position table \(max_position_embeddings = 10\)/);
    expect(() => bert.forward(ids(4), { attentionMask: tensor([0, 1, 1, 1], [1, 4]) })).toThrow(/attentionMask row 0 starts with 0/);
    expect(() => bert.forward(ids(4), { attentionMask: tensor([1, 1, 1], [1, 3]) })).toThrow(/attentionMask must be f32 \[1, 4\]/);
    expect(() => new BertModel({ ...tiny, hiddenSize: 9 })).toThrow(/BertModel: hiddenSize 9 is not divisible by numHeads 2/);
    expect(() => encoderConfig({ ...tiny, hiddenAct: 'swish' })).not.toThrow();
    expect(() => new BertModel(encoderConfig({ ...tiny, hiddenAct: 'swish' }))).toThrow(/activation 'swish' is not supported/);
    bert.dispose();
  });

  it('LSTM: wrong input width, lengths outside 1..T', () => {
    const lstm = new LSTM(3, 2);
    const x = tensor(new Float32Array(2 * 4 * 3), [2, 4, 3]);
    expect(() => lstm.forward(tensor(new Float32Array(8), [1, 4, 2]), [4])).toThrow(/input must be \[B, T, 3\], got \[1, 4, 2\]/);
    expect(() => lstm.forward(x, [4, 5])).toThrow(/length 5 of sequence 1 is outside 1..4/);
    expect(() => lstm.forward(x, [4])).toThrow(/1 lengths given for a batch of 2/);
    expect(() => lstm.forward(x, [0, 2])).toThrow(/length 0 of sequence 0/);
  });
});

// The CPU backend only: the table lookup needs the char ids on the host.
describe('CharCNN inference path', () => {
  it('CharCNN: inference without a graph gives bit for bit the training path values (padding row trained away from 0, words of every length)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 9 }), fc.constantFrom(1, 3, 5), fc.integer({ min: 0, max: 1000 }), (B, T, L, K, seed) => {
        manualSeed(seed);
        const cnn = new CharCNN({ numChars: 8, charDim: 4, filters: 5, kernelSize: K });
        const rng = new Rng(seed + 1);
        // The padding row (id 0) as training leaves it: not zero, so windows past a word's end matter.
        const weight = cnn.embedding.weight.dataSync() as Float32Array;
        for (let i = 0; i < 4; i++) weight[i] = rng.uniform(-1, 1);
        const embedding = tensor(weight, cnn.embedding.weight.shape);
        cnn.embedding.weight.assign(embedding);
        const ids = new Int32Array(B * T * L);
        for (let w = 0; w < B * T; w++) {
          const length = Math.floor(rng.uniform(0, L + 1));
          for (let i = 0; i < length; i++) ids[w * L + i] = 1 + Math.floor(rng.uniform(0, 7));
        }
        const charIds = tensor(ids, [B, T, L], { dtype: 'i32' });
        const run = (inference: boolean) =>
          tidy(() => {
            return Array.from((inference ? noGrad(() => cnn.forward(charIds)) : cnn.forward(charIds)).dataSync());
          });
        const training = run(false);
        const inference = run(true);
        expect(inference.map((v) => Object.is(v, -0) ? '-0' : v)).toEqual(training.map((v) => Object.is(v, -0) ? '-0' : v));
        charIds.dispose();
        embedding.dispose();
        cnn.dispose();
      }),
      { numRuns: 60 },
    );
  });
});
