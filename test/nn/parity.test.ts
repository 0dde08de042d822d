// Layer parity with PyTorch 1.13: Linear, LayerNorm, attention with a padding mask, a 2-layer
// BERT encoder, a 2-layer BiLSTM over variable lengths and the char-CNN replay the forward values and
// every gradient written by tools/reference/make_fixtures.py and make_char_cnn_fixture.py (forward <= 1e-4;
// gradients element by element, |a - b| <= 1e-5 + 1e-3 |b|).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpuBackend, ops, setBackend, tidy, type Module, type Tensor } from '../../src/index.js';
import { CharCNN, LayerNorm, Linear, LSTM, MultiHeadAttention, createEncoder } from '../../src/nn/index.js';
import { fromHfConfigJson } from '../../src/io/hf-config.js';
import { backends } from './backends.js';
import { ErrorLog, FORWARD_TOLERANCE, GRADIENT_TOLERANCE, decode, forwardError, gradientError, loadFixture, loadParams, values } from './reference.js';

describe.each(backends)('parity with PyTorch on %s', (name, backend) => {
  const log = new ErrorLog();
  beforeAll(() => setBackend(backend));
  afterAll(() => {
    setBackend(cpuBackend);
    log.print(`parity (${name}): worst forward / gradient errors`);
  });

  /** Runs forward, backward of sum(output * upstream), and compares output and every gradient. */
  async function check(label: string, fixture: ReturnType<typeof loadFixture>, module: Module, run: (input: Tensor | null) => Tensor, input: Tensor | null): Promise<void> {
    const output = tidy(() => {
      const y = run(input);
      ops.sum(ops.mul(y, decode(fixture.upstream, backend))).backward();
      return y;
    });
    const forward = log.note(`${label} forward`, forwardError(await values(output), fixture.output.data));
    output.dispose();
    expect(forward).toBeLessThanOrEqual(FORWARD_TOLERANCE);
    for (const [param, tensor] of module.namedParameters()) {
      const expected = fixture.grads[param];
      expect(expected, `fixture has a gradient for ${param}`).toBeDefined();
      const actual = await values(tensor.grad!);
      if (param.endsWith('self.key.bias')) {
        // Analytically 0 (softmax ignores q.b_k, a shift shared by every key): both sides hold
        // only rounding, so a relative comparison is meaningless; check that ours is ~0 too.
        const largest = Math.max(...Array.from(actual, Math.abs), ...expected.data.map(Math.abs));
        expect(log.note(`${label} key-bias |grad| (exactly 0 in theory)`, largest)).toBeLessThanOrEqual(1e-5);
        continue;
      }
      const error = log.note(`${label} gradients`, gradientError(actual, expected.data));
      expect(error, `gradient of ${param}`).toBeLessThanOrEqual(GRADIENT_TOLERANCE);
    }
    if (input && fixture.inputGrad) {
      const error = log.note(`${label} gradients`, gradientError(await values(input.grad!), fixture.inputGrad.data));
      expect(error, 'gradient of the input').toBeLessThanOrEqual(GRADIENT_TOLERANCE);
    }
    module.zeroGrad();
    input?.zeroGrad();
    input?.dispose();
  }

  it('Linear', async () => {
    const f = loadFixture('linear');
    const linear = new Linear(8, 5);
    loadParams(linear, f.params, backend);
    await check('Linear', f, linear, (x) => linear.forward(x!), decode(f.input, backend, { requiresGrad: true }));
    linear.dispose();
  });

  it('LayerNorm', async () => {
    const f = loadFixture('layer_norm');
    const norm = new LayerNorm(8, f.eps);
    loadParams(norm, f.params, backend);
    await check('LayerNorm', f, norm, (x) => norm.forward(x!), decode(f.input, backend, { requiresGrad: true }));
    norm.dispose();
  });

  it('multi-head attention with a padding mask (BertSelfAttention + BertSelfOutput)', async () => {
    const f = loadFixture('attention');
    const attention = new MultiHeadAttention(f.config);
    loadParams(attention, f.params, backend);
    const mask = decode(f.attentionMask, backend);
    await check('attention', f, attention, (x) => attention.forward(x!, mask), decode(f.input, backend, { requiresGrad: true }));
    attention.dispose();
  });

  it('2-layer BERT encoder (embeddings + encoder, HF parameter names)', async () => {
    const f = loadFixture('bert_encoder');
    // The fixture's config is a Hugging Face config.json without model_type (BERT).
    const bert = createEncoder(fromHfConfigJson(f.config, 'bert_encoder.json', 'bert'));
    loadParams(bert, f.params, backend);
    const ids = decode(f.inputIds, backend);
    const types = decode(f.tokenTypeIds, backend);
    const mask = decode(f.attentionMask, backend);
    await check('BERT encoder', f, bert, () => bert.forward(ids, { attentionMask: mask, tokenTypeIds: types }).lastHiddenState, null);
    bert.dispose();
  });

  it('2-layer BiLSTM over variable lengths (pack_padded_sequence semantics)', async () => {
    const f = loadFixture('bilstm');
    const lstm = new LSTM(f.config.inputSize, f.config.hiddenSize, { numLayers: f.config.numLayers, bidirectional: true });
    loadParams(lstm, f.params, backend);
    await check('BiLSTM', f, lstm, (x) => lstm.forward(x!, f.lengths), decode(f.input, backend, { requiresGrad: true }));
    lstm.dispose();
  });

  it('char-CNN word features (embedding, Conv1d with same padding, max over positions, tanh)', async () => {
    const f = loadFixture('char_cnn');
    const charCnn = new CharCNN(f.config);
    loadParams(charCnn, f.params, backend);
    const ids = decode(f.charIds, backend);
    // The CPU runs the lookup-table convolution (ids on the host), WebGPU the unfold + matmul one.
    await check('char-CNN', f, charCnn, () => charCnn.forward(ids), null);
    if (name === 'cpu') await check('char-CNN (unfold)', f, charCnn, () => charCnn.forwardByUnfold(ids), null);
    ids.dispose();
    charCnn.dispose();
  });
});
