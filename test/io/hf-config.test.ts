// Hugging Face model directories: config.json for each architecture, checkpoint
// name mapping (prefixes, legacy LayerNorm names, ignored heads), shape checks
// against the real parameter counts, and the pickle-only directory message.

import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkTensorShapes, checkpointFiles, expectedEncoderShapes, mapCheckpointNames, normalizeTensorName, parseHfConfig, readHfConfig, toHfConfigJson,
  type EncoderConfig,
} from '../../src/io/hf-config.js';
import { SafetensorsReader } from '../../src/io/safetensors.js';

const fixtures = new URL('../fixtures/io/', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'medner-hf-'));

// The published configs of the base models (transformers' defaults fill the rest).
const configs: Record<string, object> = {
  'distilbert-base-uncased': { model_type: 'distilbert', activation: 'gelu', dim: 768, dropout: 0.1, hidden_dim: 3072, max_position_embeddings: 512, n_heads: 12, n_layers: 6, pad_token_id: 0, sinusoidal_pos_embds: false, vocab_size: 30522 },
  'roberta-base': { model_type: 'roberta', hidden_size: 768, intermediate_size: 3072, layer_norm_eps: 1e-5, max_position_embeddings: 514, num_attention_heads: 12, num_hidden_layers: 12, pad_token_id: 1, type_vocab_size: 1, vocab_size: 50265 },
  'albert-base-v2': { model_type: 'albert', embedding_size: 128, hidden_act: 'gelu_new', hidden_size: 768, intermediate_size: 3072, max_position_embeddings: 512, num_attention_heads: 12, num_hidden_groups: 1, num_hidden_layers: 12, inner_group_num: 1, type_vocab_size: 2, vocab_size: 30000, layer_norm_eps: 1e-12 },
};

const parameterCount = (shapes: Map<string, number[]>): number => [...shapes.values()].reduce((n, s) => n + s.reduce((a, b) => a * b, 1), 0);

describe('config.json', () => {
  it('BiomedBERT (bert): fields and the parameter count of bert-base without its pooler', () => {
    const config = readHfConfig(tmpDirWith({ 'config.json': readFileSync(join(fixtures, 'biomedbert-config.json'), 'utf8') }));
    expect(config).toMatchObject({ modelType: 'bert', vocabSize: 30522, hiddenSize: 768, numLayers: 12, numHeads: 12, intermediateSize: 3072, maxPositions: 512, typeVocabSize: 2, layerNormEps: 1e-12, hiddenAct: 'gelu', positionOffset: 0, initializerRange: 0.02 });
    expect('embeddingSize' in config).toBe(false); // ALBERT's own field
    const shapes = expectedEncoderShapes(config);
    expect(shapes.size).toBe(5 + 16 * 12);
    // 109,482,240 in BertModel, minus the pooler's 590,592.
    expect(parameterCount(shapes)).toBe(109_482_240 - 590_592);
  });

  it('distilbert, roberta and albert: field names mapped, published parameter counts reached', () => {
    const distil = parseHfConfig(JSON.stringify(configs['distilbert-base-uncased']));
    expect(distil).toMatchObject({ hiddenSize: 768, numLayers: 6, numHeads: 12, intermediateSize: 3072, typeVocabSize: 0, hiddenAct: 'gelu' });
    expect(parameterCount(expectedEncoderShapes(distil))).toBe(66_362_880);
    const roberta = parseHfConfig(JSON.stringify(configs['roberta-base']));
    expect(roberta).toMatchObject({ positionOffset: 2, padTokenId: 1, typeVocabSize: 1, layerNormEps: 1e-5, maxPositions: 514 });
    expect(parameterCount(expectedEncoderShapes(roberta))).toBe(124_645_632 - 590_592);
    const albert = parseHfConfig(JSON.stringify(configs['albert-base-v2']));
    expect(albert).toMatchObject({ embeddingSize: 128, numHiddenGroups: 1, innerGroupNum: 1, hiddenAct: 'gelu_new' });
    const albertShapes = expectedEncoderShapes(albert);
    expect(albertShapes.get('encoder.embedding_hidden_mapping_in.weight')).toEqual([768, 128]);
    expect(parameterCount(albertShapes)).toBe(11_683_584 - 590_592);
  });

  it('writes back under Hugging Face field names, and reads back the same', () => {
    for (const raw of [readFileSync(join(fixtures, 'biomedbert-config.json'), 'utf8'), ...Object.values(configs).map((c) => JSON.stringify(c))]) {
      const config = parseHfConfig(raw);
      const again = parseHfConfig(JSON.stringify(toHfConfigJson(config)));
      const strip = ({ raw: _, ...rest }: EncoderConfig) => rest;
      expect(strip(again)).toEqual(strip(config));
    }
    expect(toHfConfigJson(parseHfConfig(JSON.stringify(configs['distilbert-base-uncased'])))).toMatchObject({ dim: 768, n_layers: 6, architectures: ['DistilBertModel'] });
  });

  it('errors name the file and the key', () => {
    const bert = JSON.parse(readFileSync(join(fixtures, 'biomedbert-config.json'), 'utf8')) as Record<string, unknown>;
    expect(() => parseHfConfig(JSON.stringify({ ...bert, model_type: 'gpt2' }), 'm/config.json')).toThrow(/m\/config\.json: model_type "gpt2" is not supported \(supported: bert, roberta, distilbert, albert/);
    expect(() => parseHfConfig(JSON.stringify({ ...bert, hidden_size: '768' }), 'm/config.json')).toThrow(/m\/config\.json: hidden_size must be an integer >= 1, got "768"/);
    expect(() => parseHfConfig(JSON.stringify({ ...bert, num_attention_heads: 7 }), 'c.json')).toThrow(/c\.json: hidden_size 768 is not divisible by num_attention_heads 7/);
    expect(() => parseHfConfig(JSON.stringify({ ...bert, position_embedding_type: 'relative_key' }), 'c.json')).toThrow(/position_embedding_type "relative_key" is not supported/);
    expect(() => parseHfConfig('{"model_type": ', 'c.json')).toThrow(/c\.json: not valid JSON/);
    expect(() => readHfConfig(tmp)).toThrow(/no config\.json/);
  });
});

describe('checkpoint names', () => {
  it('strips the model prefix, renames gamma/beta, and lists ignored heads with a reason', () => {
    expect(normalizeTensorName('bert.embeddings.LayerNorm.gamma', 'bert')).toBe('embeddings.LayerNorm.weight');
    expect(normalizeTensorName('roberta.encoder.layer.0.output.LayerNorm.beta', 'roberta')).toBe('encoder.layer.0.output.LayerNorm.bias');
    expect(normalizeTensorName('encoder.layer.0.output.dense.weight', 'bert')).toBe('encoder.layer.0.output.dense.weight');
    const names = [
      'bert.embeddings.word_embeddings.weight', 'bert.pooler.dense.weight', 'bert.pooler.dense.bias', 'cls.predictions.bias', 'cls.seq_relationship.weight',
      'bert.embeddings.position_ids', 'lm_head.dense.weight', 'vocab_projector.weight', 'predictions.decoder.weight', 'albert.pooler.weight',
    ];
    const { mapping, ignored, note } = mapCheckpointNames(names, 'bert');
    expect([...mapping]).toEqual([['embeddings.word_embeddings.weight', 'bert.embeddings.word_embeddings.weight']]);
    expect(ignored.map((i) => i.name)).toEqual(names.slice(1));
    expect(note).toMatch(/^ignored 9 checkpoint tensors not used for token classification: pooler .*BERT pretraining head/);
    expect(() => mapCheckpointNames(['bert.embeddings.LayerNorm.gamma', 'embeddings.LayerNorm.weight'], 'bert')).toThrow(/'bert\.embeddings\.LayerNorm\.gamma' and 'embeddings\.LayerNorm\.weight' both map to 'embeddings\.LayerNorm\.weight'/);
  });

  it('maps the reference file\'s names (prefix, legacy gamma, position_ids ignored)', () => {
    const reader = SafetensorsReader.open(join(fixtures, 'reference.safetensors'));
    const { mapping, ignored } = mapCheckpointNames(reader.names(), 'bert');
    reader.close();
    expect(mapping.get('embeddings.LayerNorm.weight')).toBe('bert.embeddings.LayerNorm.gamma');
    expect(mapping.get('embeddings.word_embeddings.weight')).toBe('bert.embeddings.word_embeddings.weight');
    expect(ignored.map((i) => i.name)).toEqual(['bert.embeddings.position_ids']);
  });

  it('a shape mismatch names the tensor and both shapes; missing and unexpected are listed', () => {
    const config = parseHfConfig(JSON.stringify({ ...configs['distilbert-base-uncased'], n_layers: 1 }));
    const expected = expectedEncoderShapes(config);
    const actual = new Map<string, readonly number[]>(expected);
    actual.set('transformer.layer.0.ffn.lin1.weight', [3072, 512]);
    actual.delete('embeddings.LayerNorm.bias');
    actual.set('transformer.layer.1.ffn.lin1.weight', [3072, 768]);
    const check = checkTensorShapes(expected, actual);
    expect(check.mismatched).toEqual([{ name: 'transformer.layer.0.ffn.lin1.weight', expected: [3072, 768], actual: [3072, 512] }]);
    expect(check.missing).toEqual(['embeddings.LayerNorm.bias']);
    expect(check.unexpected).toEqual(['transformer.layer.1.ffn.lin1.weight']);
    expect(() => checkTensorShapes(expected, actual, 'dir/model.safetensors')).toThrow(
      /dir\/model\.safetensors: 1 tensor\(s\) with the wrong shape and 1 missing .*\n {2}transformer\.layer\.0\.ffn\.lin1\.weight: the checkpoint has \[3072, 512\], the model expects \[3072, 768\]\n {2}embeddings\.LayerNorm\.bias: missing from the checkpoint \(the model expects \[768\]\)/,
    );
    expect(checkTensorShapes(expected, new Map(expected), 'ok.safetensors')).toEqual({ missing: [], mismatched: [], unexpected: [] });
  });
});

describe('checkpoint files in a model directory', () => {
  it('model.safetensors, or the shards of an index', () => {
    expect(checkpointFiles(tmpDirWith({ 'model.safetensors': '' }))).toEqual([expect.stringMatching(/model\.safetensors$/)]);
    const sharded = tmpDirWith({
      'model.safetensors.index.json': JSON.stringify({ weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00002-of-00002.safetensors', c: 'model-00001-of-00002.safetensors' } }),
      'model-00001-of-00002.safetensors': '', 'model-00002-of-00002.safetensors': '',
    });
    expect(checkpointFiles(sharded).map((f) => f.slice(-32))).toEqual(['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']);
    expect(() => checkpointFiles(tmpDirWith({ 'model.safetensors.index.json': JSON.stringify({ weight_map: { a: 'gone.safetensors' } }) }))).toThrow(/lists .*gone\.safetensors, which does not exist/);
  });

  it('a directory with only pytorch_model.bin is told how to convert it', () => {
    const dir = tmpDirWith({ 'pytorch_model.bin': 'pickle', 'config.json': '{}' });
    let message = '';
    try {
      checkpointFiles(dir);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain(`${dir}: has pytorch_model.bin but no model.safetensors`);
    expect(message).toContain('from safetensors.torch import save_file');
    expect(message).toContain(`torch.load("${join(dir, 'pytorch_model.bin')}", map_location="cpu")`);
    expect(message).toContain(`"${join(dir, 'model.safetensors')}"`);
    expect(() => checkpointFiles(tmpDirWith({}))).toThrow(/no model\.safetensors/);
  });
});

let dirCount = 0;
function tmpDirWith(files: Record<string, string>): string {
  const dir = join(tmp, `model${dirCount++}`);
  mkdirSync(dir);
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}
