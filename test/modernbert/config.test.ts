// ModernBERT's config.json as transformers reads it: ModernBERT-base's defaults, layer_types or
// global_attn_every_n_layers, rope_parameters or the older global/local_rope_theta, one-line errors
// naming the file and key; a checkpoint without the prediction head (a bare ModernBertModel) loads
// with the head newly initialised, as ModernBertForTokenClassification.from_pretrained does.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cpuBackend, setBackend } from '../../src/index.js';
import { expectedEncoderShapes, parseHfConfig, readHfConfig, toHfConfigJson } from '../../src/io/hf-config.js';
import { SafetensorsReader, saveSafetensors } from '../../src/io/safetensors.js';
import { tensor, type Tensor } from '../../src/tensor/tensor.js';
import { BertCrf } from '../../src/models/bert-tagger.js';
import { rotaryTables } from '../../src/nn/modernbert.js';
import { encoderConfig } from '../../src/nn/encoder-config.js';
import { loadPretrainedWeights } from '../../src/train/pretrained.js';
import { scratchDir } from '../pretrained/helpers.js';

const parse = (fields: Record<string, unknown>) => parseHfConfig(JSON.stringify({ model_type: 'modernbert', ...fields }), 'x/config.json');

describe('ModernBERT config.json', () => {
  it("takes ModernBERT-base's defaults: 22 layers, global every 3rd, window 128, thetas 160000 / 10000, no biases", () => {
    const c = parse({});
    if (c.modelType !== 'modernbert') throw new Error(`parsed as '${c.modelType}'`);
    expect([c.vocabSize, c.hiddenSize, c.numLayers, c.numHeads, c.intermediateSize, c.maxPositions, c.padTokenId, c.layerNormEps, c.hiddenAct]).toEqual([50368, 768, 22, 12, 1152, 8192, 50283, 1e-5, 'gelu']);
    const m = c;
    expect(m.layerTypes.slice(0, 7)).toEqual(['global', 'local', 'local', 'global', 'local', 'local', 'global']);
    expect([m.localAttention, m.globalRopeTheta, m.localRopeTheta, m.normBias, m.attentionBias, m.mlpBias]).toEqual([128, 160000, 10000, false, false, false]);
    // Every tensor without a bias; layer 0 has no attn_norm.
    const shapes = expectedEncoderShapes(c);
    expect([...shapes.keys()].filter((n) => n.endsWith('.bias'))).toEqual([]);
    expect(shapes.has('layers.0.attn_norm.weight')).toBe(false);
    expect(shapes.get('layers.0.attn.Wqkv.weight')).toEqual([2304, 768]);
    expect(shapes.get('layers.21.mlp.Wi.weight')).toEqual([2304, 768]);
  });

  it('reads layer_types and rope_parameters (transformers >= 4.57) before the older fields, and writes them back', () => {
    const c = parse({ num_hidden_layers: 3, layer_types: ['full_attention', 'sliding_attention', 'full_attention'], global_attn_every_n_layers: 2, rope_parameters: { full_attention: { rope_type: 'default', rope_theta: 5000 }, sliding_attention: { rope_type: 'default', rope_theta: 700 } } });
    if (c.modelType !== 'modernbert') throw new Error(`parsed as '${c.modelType}'`);
    expect(c.layerTypes).toEqual(['global', 'local', 'global']);
    expect([c.globalRopeTheta, c.localRopeTheta]).toEqual([5000, 700]);
    const json = toHfConfigJson(c);
    expect(json).toMatchObject({ model_type: 'modernbert', layer_types: ['full_attention', 'sliding_attention', 'full_attention'], global_attn_every_n_layers: 2, global_rope_theta: 5000, local_rope_theta: 700, norm_bias: false });
    const again = parseHfConfig(JSON.stringify({ ...json, rope_parameters: undefined }), 'again');
    const strip = ({ raw: _raw, ...rest }: typeof again) => rest;
    expect(strip(again)).toEqual(strip(c));
  });

  it('refuses what it cannot run, naming the file and key', () => {
    expect(() => parse({ num_hidden_layers: 2, layer_types: ['sliding_attention', 'full_attention'] })).toThrow(/layer_types\[0\] is 'sliding_attention' but global_attn_every_n_layers 3 makes layer 0 global/);
    expect(() => parse({ local_attention: 5 })).toThrow(/x\/config\.json: local_attention must be even/);
    expect(() => parse({ num_hidden_layers: 2, layer_types: ['full_attention'] })).toThrow(/x\/config\.json: layer_types must list .* each of the 2 layers/);
    expect(() => parse({ rope_parameters: { full_attention: { rope_type: 'yarn', rope_theta: 1 } } })).toThrow(/rope_parameters\.full_attention\.rope_type "yarn" is not supported/);
    expect(() => parse({ norm_bias: 'no' })).toThrow(/x\/config\.json: norm_bias must be true or false/);
    expect(() => parse({ global_rope_theta: -1 })).toThrow(/global_rope_theta must be a positive number/);
    setBackend(cpuBackend);
    expect(() => new BertCrf({ encoder: encoderConfig({ modelType: 'modernbert', vocabSize: 10, hiddenSize: 8, numHeads: 2, numLayers: 1, padTokenId: 0, hiddenAct: 'silu' }), numTags: 3 })).toThrow(/ModernBertModel .*activation 'silu' is not supported \(gelu\)/);
  });

  it('rotary tables: cos and sin of s / theta^(2i/D), as HF rounds them in float32', () => {
    const { cos, sin } = rotaryTables(5, 8, 10000);
    expect(cos.length).toBe(20);
    expect(cos.slice(0, 4)).toEqual(Float32Array.from([1, 1, 1, 1])); // position 0
    expect(sin[4]).toBeCloseTo(Math.sin(1), 6); // position 1, i = 0: angle 1
    expect(sin[4 + 1]).toBeCloseTo(Math.sin(1 / 10), 6); // i = 1: 10000^(-1/4) = 0.1
    expect(cos[4 * 4 + 3]).toBeCloseTo(Math.cos(4 * 10000 ** -0.75), 6);
  });

  it('a bare ModernBertModel checkpoint (no head.*) loads; the prediction head keeps its initialisation, and the log says so', async () => {
    const { dir, cleanup } = scratchDir('modernbert');
    try {
      const file = join(dir, 'model.safetensors');
      const reader = SafetensorsReader.open(file);
      const kept = new Map<string, Tensor>();
      for (const name of reader.names()) if (name.startsWith('model.')) kept.set(name, tensor(reader.readFloat32(name), reader.entry(name).shape, { backend: cpuBackend }));
      reader.close();
      await saveSafetensors(file, kept, { metadata: { format: 'pt' } });
      writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...readHfConfig(dir).raw, architectures: ['ModernBertModel'] }));
      setBackend(cpuBackend);
      const tagger = new BertCrf({ encoder: readHfConfig(dir), numTags: 3 });
      const load = loadPretrainedWeights(tagger, dir, cpuBackend);
      expect(load.loaded).toBe(20);
      expect(load.summary).toMatch(/2 not in the checkpoint, newly initialised: head\.dense\.weight, head\.norm\.weight/);
      tagger.dispose();
      for (const t of kept.values()) t.dispose();
    } finally {
      cleanup();
    }
  });
});
