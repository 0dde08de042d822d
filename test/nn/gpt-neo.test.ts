// GPT-Neo parity with PyTorch (issue 18): the tiny checkpoint of test/fixtures/hf/gpt_neo (hidden 32,
// 2 heads, global/local/global layers, window_size 3) on a right-padded batch whose padding runs past
// the window, replaying tools/reference/make_gptneo_fixtures.py, which follows HF's modeling_gpt_neo:
// forward <= 1e-4 and every parameter gradient element by element (|a - b| <= 1e-5 + 1e-3 |b|), on the
// CPU and WebGPU backends. Also the pieces: the causal/local pattern, the three-level bias, the config.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { cpuBackend, ops, setBackend, tensor, tidy, type Tensor } from '../../src/index.js';
import { expectedEncoderShapes, mapCheckpointNames, parseHfConfig, readHfConfig, toHfConfigJson } from '../../src/io/hf-config.js';
import { SafetensorsReader } from '../../src/io/safetensors.js';
import { causalPattern, GptNeoModel } from '../../src/nn/gpt-neo.js';
import type { EncoderConfig, GptNeoEncoderConfig } from '../../src/nn/encoder-config.js';
import { backends } from './backends.js';
import { ErrorLog, FORWARD_TOLERANCE, GRADIENT_TOLERANCE, forwardError, gradientError, values } from './reference.js';

const dir = fileURLToPath(new URL('../fixtures/hf/gpt_neo', import.meta.url));
/** A config.json read as GPT-Neo's config (the union narrowed, so its own fields are typed). */
function gptNeo(config: EncoderConfig): GptNeoEncoderConfig {
  if (config.modelType !== 'gpt_neo') throw new Error(`parsed as '${config.modelType}', not gpt_neo`);
  return config;
}
const gradientsFile = fileURLToPath(new URL('../fixtures/reference/gpt_neo_gradients.safetensors', import.meta.url));

/** The checkpoint's tensors under the encoder's own names (transformer. stripped, lm_head and mask buffers skipped). */
function checkpointState(backend: Parameters<typeof setBackend>[0]): Map<string, Tensor> {
  const reader = SafetensorsReader.open(`${dir}/model.safetensors`);
  try {
    const { mapping } = mapCheckpointNames(reader.names(), 'gpt_neo');
    return new Map([...mapping].map(([own, name]) => [own, reader.readTensor(name, backend)]));
  } finally {
    reader.close();
  }
}

describe.each(backends)('GPT-Neo parity with PyTorch on %s', (name, backend) => {
  const log = new ErrorLog();
  beforeAll(() => setBackend(backend));
  afterAll(() => {
    setBackend(cpuBackend);
    log.print(`GPT-Neo parity (${name}): worst forward / gradient errors`);
  });

  it('forward <= 1e-4 and every parameter gradient <= 1e-3 per element (padded rows included)', async () => {
    const model = new GptNeoModel(gptNeo(readHfConfig(dir)));
    const state = checkpointState(backend);
    model.loadStateDict(state);
    for (const t of state.values()) t.dispose();
    model.eval();
    const reference = SafetensorsReader.open(gradientsFile);
    try {
      const ids = reference.readTensor('input_ids', backend);
      const mask = reference.readTensor('attention_mask', backend);
      const output = tidy(() => {
        const y = model.forward(ids, { attentionMask: mask }).lastHiddenState;
        ops.sum(ops.mul(y, reference.readTensor('upstream', backend))).backward();
        return y;
      });
      const forward = log.note('forward', forwardError(await values(output), reference.readFloat32('output')));
      output.dispose();
      expect(forward).toBeLessThanOrEqual(FORWARD_TOLERANCE);
      const params = model.namedParameters();
      expect(params.length).toBe(reference.names().filter((n) => n.startsWith('grad.')).length);
      for (const [param, t] of params) {
        const error = log.note('gradients', gradientError(await values(t.grad!), reference.readFloat32(`grad.${param}`)));
        expect(error, `gradient of ${param}`).toBeLessThanOrEqual(GRADIENT_TOLERANCE);
      }
      ids.dispose();
      mask.dispose();
    } finally {
      reference.close();
      model.dispose();
    }
  });
});

describe('GPT-Neo pieces', () => {
  it("causalPattern: global is tril(ones); local keeps the last window_size keys (HF's tril ^ tril(-window))", () => {
    expect(Array.from(causalPattern(3, null))).toEqual([1, 0, 0, 1, 1, 0, 1, 1, 1]);
    // window 2: each query sees itself and one key before it.
    expect(Array.from(causalPattern(4, 2))).toEqual([1, 0, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 1, 1]);
  });

  it('a token never sees its right context: changing a later id leaves every earlier state as it was', () => {
    setBackend(cpuBackend);
    const model = new GptNeoModel(gptNeo(readHfConfig(dir)));
    model.eval();
    tidy(() => {
      const a = model.forward(tensor(Int32Array.from([5, 6, 7, 8, 9, 10]), [1, 6], { dtype: 'i32' })).lastHiddenState.dataSync();
      const b = model.forward(tensor(Int32Array.from([5, 6, 7, 8, 9, 30]), [1, 6], { dtype: 'i32' })).lastHiddenState.dataSync();
      const H = model.hiddenSize;
      expect(Array.from(a.slice(0, 5 * H))).toEqual(Array.from(b.slice(0, 5 * H)));
      expect(Array.from(a.slice(5 * H))).not.toEqual(Array.from(b.slice(5 * H)));
      return null;
    });
    model.dispose();
  });

  it('a left-padded mask is refused: positions count from 0, so GPT-Neo batches are right-padded', () => {
    setBackend(cpuBackend);
    const model = new GptNeoModel(gptNeo(readHfConfig(dir)));
    const ids = tensor(Int32Array.from([5, 6, 7, 8]), [2, 2], { dtype: 'i32' });
    expect(() => model.forward(ids, { attentionMask: tensor(Float32Array.from([1, 1, 1, 0]), [2, 2]) })).not.toThrow();
    const three = tensor(Int32Array.from([5, 6, 7]), [1, 3], { dtype: 'i32' });
    expect(() => model.forward(three, { attentionMask: tensor(Float32Array.from([0, 1, 1]), [1, 3]) })).toThrow(/GptNeoModel: attentionMask row 0 starts with 0/);
    expect(() => model.forward(three, { attentionMask: tensor(Float32Array.from([1, 0, 1]), [1, 3]) })).toThrow(/GptNeoModel: attentionMask .*right-padded.*prefix of ones/);
    model.dispose();
  });

  it('config.json: GPTNeoConfig defaults, attention_types expanded, errors name the file; toHfConfigJson round-trips', () => {
    const base = { model_type: 'gpt_neo', vocab_size: 50, hidden_size: 8, num_heads: 2, max_position_embeddings: 16, eos_token_id: 49 };
    const c = gptNeo(parseHfConfig(JSON.stringify({ ...base, num_layers: 4, attention_types: [[['global', 'local'], 2]], intermediate_size: null }), 'a/config.json'));
    expect(c.attentionLayers).toEqual(['global', 'local', 'global', 'local']);
    expect(c.intermediateSize).toBe(32); // null -> 4 * hidden_size
    expect(c.windowSize).toBe(256);
    expect(c.hiddenAct).toBe('gelu_new');
    expect(c.layerNormEps).toBe(1e-5);
    expect(c.padTokenId).toBe(49); // no pad token: eos_token_id (GPTNeoConfig's default 50256)
    expect(() => parseHfConfig(JSON.stringify({ ...base, num_layers: 4 }), 'a/config.json')).toThrow(/a\/config.json: attention_types gives 24 layers but num_layers is 4/);
    expect(() => parseHfConfig(JSON.stringify({ ...base, num_layers: 1, attention_types: [[['sparse'], 1]] }), 'a/config.json')).toThrow(
      /a\/config.json: attention_types names the attention "sparse"/,
    );
    const tiny = gptNeo(readHfConfig(dir));
    const again = gptNeo(parseHfConfig(JSON.stringify(toHfConfigJson(tiny)), 'again'));
    expect([again.attentionLayers, again.windowSize, again.embedDropout, again.classifierDropout]).toEqual([tiny.attentionLayers, tiny.windowSize, tiny.embedDropout, tiny.classifierDropout]);
    expect({ ...again, raw: null }).toEqual({ ...tiny, raw: null });
  });

  it("EleutherAI/gpt-neo-125M's config.json: 12 alternating layers, window 256, 125,198,592 encoder parameters", () => {
    const config = gptNeo(parseHfConfig(JSON.stringify(GPT_NEO_125M), 'gpt-neo-125M/config.json'));
    expect(config.attentionLayers).toEqual(GPT_NEO_125M.attention_layers);
    expect(config.intermediateSize).toBe(3072);
    expect(config.padTokenId).toBe(50256);
    let count = 0;
    for (const shape of expectedEncoderShapes(config).values()) count += shape.reduce((a, b) => a * b, 1);
    expect(count).toBe(125_198_592);
  });
});

/** EleutherAI/gpt-neo-125M's config.json as published (transformers 4.9). */
const GPT_NEO_125M = {
  activation_function: 'gelu_new', architectures: ['GPTNeoForCausalLM'], attention_dropout: 0,
  attention_layers: ['global', 'local', 'global', 'local', 'global', 'local', 'global', 'local', 'global', 'local', 'global', 'local'],
  attention_types: [[['global', 'local'], 6]], bos_token_id: 50256, embed_dropout: 0, eos_token_id: 50256, gradient_checkpointing: false,
  hidden_size: 768, initializer_range: 0.02, intermediate_size: null, layer_norm_epsilon: 1e-5, max_position_embeddings: 2048,
  model_type: 'gpt_neo', num_heads: 12, num_layers: 12, resid_dropout: 0, summary_activation: null, summary_first_dropout: 0.1,
  summary_proj_to_labels: true, summary_type: 'cls_index', summary_use_proj: true, transformers_version: '4.9.0.dev0', use_cache: true,
  vocab_size: 50257, window_size: 256,
};
