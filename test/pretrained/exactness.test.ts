// Issue 7, item 3: tiny random BERT, RoBERTa, DistilBERT and ALBERT checkpoints (written by
// tools/reference/make_hf_fixtures.py, whose forward passes follow Hugging Face's modeling code)
// load through the real path -- readHfConfig, a tagger built from config.json, loadPretrainedWeights,
// loadPretrainedTokenizer -- and give the reference's last hidden state within 1e-4.

import { afterAll, describe, expect, it } from 'vitest';
import { cpuBackend, setBackend, tidy } from '../../src/index.js';
import { expectedEncoderShapes, readHfConfig } from '../../src/io/hf-config.js';
import { BertBiLstmCrf } from '../../src/models/bert-tagger.js';
import { createEncoder } from '../../src/nn/encoders.js';
import { DistilBertModel, sinusoidalTable } from '../../src/nn/distilbert.js';
import { AlbertModel } from '../../src/nn/albert.js';
import { SafetensorsReader } from '../../src/io/safetensors.js';
import { loadPretrainedTokenizer, loadPretrainedWeights } from '../../src/train/pretrained.js';
import { ARCHITECTURES, fixtureDir, ids2d, loadExpected, mask2d, maxAbsError } from './helpers.js';

const TOLERANCE = 1e-4;
const errors = new Map<string, number>();
afterAll(() => {
  console.log('pretrained exactness: max |ours - reference| on the last hidden state');
  for (const [arch, error] of errors) console.log(`  ${arch.padEnd(11)} ${error.toExponential(2)}`);
});

/** A BERT-BiLSTM-CRF whose encoder is built from the directory's config.json and loaded from its weights. */
function loadTagger(arch: (typeof ARCHITECTURES)[number]) {
  setBackend(cpuBackend);
  const dir = fixtureDir(arch);
  const config = readHfConfig(dir);
  const tagger = new BertBiLstmCrf({ encoder: config, numTags: 3, lstmHidden: 4 });
  const load = loadPretrainedWeights(tagger, dir, cpuBackend);
  tagger.eval();
  return { dir, config, tagger, load };
}

describe.each(ARCHITECTURES)('%s checkpoint', (arch) => {
  const expected = loadExpected(arch);

  it('loads by name and reproduces the reference hidden states (<= 1e-4)', async () => {
    const { dir, config, tagger, load } = loadTagger(arch);
    expect(tagger.bert.modelType).toBe(arch);
    // Every tensor of the encoder came from the file; the unused heads were skipped, not loaded.
    expect(load.loaded).toBe(tagger.bert.parameters().length);
    expect(load.unused).toEqual([]);
    expect(load.ignored.length).toBeGreaterThanOrEqual(arch === 'modernbert' ? 1 : 3); // ModernBERT's masked-LM checkpoint: decoder.bias (its prediction head loads)
    expect(load.summary).toMatch(new RegExp(`pretrained ${arch}: loaded ${load.loaded} encoder tensors .*ignored ${load.ignored.length} checkpoint tensors`));

    // The directory's tokenizer gives the reference's ids.
    const tokenizer = await loadPretrainedTokenizer(dir);
    expected.words.forEach((words, b) => {
      const length = expected.attentionMask[b]!.reduce((n, m) => n + m, 0);
      expect(tokenizer.encodeWords(words).ids).toEqual(expected.inputIds[b]!.slice(0, length));
    });

    tidy(() => {
      const output = tagger.bert.forward(ids2d(expected.inputIds), {
        attentionMask: mask2d(expected.attentionMask),
        tokenTypeIds: expected.tokenTypeIds ? ids2d(expected.tokenTypeIds) : null,
      }).lastHiddenState;
      expect(output.shape).toEqual(expected.lastHiddenState.shape);
      // Every position, padding included (RoBERTa's padded positions use pad_token_id's row, as HF).
      const error = maxAbsError(output.dataSync(), expected.lastHiddenState.data);
      errors.set(arch, error);
      expect(error).toBeLessThanOrEqual(TOLERANCE);
      return null;
    });
    expect(config.modelType).toBe(arch);
    tagger.dispose();
  });

  it("has exactly the parameter names and shapes of hf-config's expectedEncoderShapes", () => {
    const config = readHfConfig(fixtureDir(arch));
    const encoder = createEncoder(config);
    const ours = new Map(encoder.namedParameters().map(([n, t]) => [n, [...t.shape]]));
    expect(ours).toEqual(expectedEncoderShapes(config));
    encoder.dispose();
  });

  it('createEncoder gives the same encoder as the tagger holds; padding never changes a real token', () => {
    const { tagger } = loadTagger(arch);
    const encoder = createEncoder(readHfConfig(fixtureDir(arch)));
    encoder.loadStateDict(tagger.bert.stateDict());
    encoder.eval();
    tidy(() => {
      const inputs = { attentionMask: mask2d(expected.attentionMask), tokenTypeIds: expected.tokenTypeIds ? ids2d(expected.tokenTypeIds) : null };
      const a = tagger.bert.forward(ids2d(expected.inputIds), inputs).lastHiddenState.dataSync();
      const b = encoder.forward(ids2d(expected.inputIds), inputs).lastHiddenState.dataSync();
      expect(maxAbsError(a, b)).toBe(0);
      // Sentence 0 alone, unpadded: its real positions match the padded batch's row 0.
      const length = expected.attentionMask[0]!.reduce((n, m) => n + m, 0);
      const alone = encoder
        .forward(ids2d([expected.inputIds[0]!.slice(0, length)]), {
          attentionMask: mask2d([expected.attentionMask[0]!.slice(0, length)]),
          tokenTypeIds: expected.tokenTypeIds ? ids2d([expected.tokenTypeIds[0]!.slice(0, length)]) : null,
        })
        .lastHiddenState.dataSync();
      const H = encoder.hiddenSize;
      expect(maxAbsError(alone, a.slice(0, length * H))).toBeLessThanOrEqual(1e-5);
      return null;
    });
    encoder.dispose();
    tagger.dispose();
  });
});

describe('architecture details', () => {
  it("DistilBERT's sinusoidal position table equals HF's create_sinusoidal_embeddings and gets no gradient", () => {
    const config = readHfConfig(fixtureDir('distilbert'));
    if (config.modelType !== 'distilbert') throw new Error(`the distilbert fixture is '${config.modelType}'`);
    expect(config.sinusoidalPositions).toBe(true);
    const reader = SafetensorsReader.open(`${fixtureDir('distilbert')}/model.safetensors`);
    const stored = reader.readFloat32('distilbert.embeddings.position_embeddings.weight');
    reader.close();
    // The file holds it in F16, so compare at half precision's resolution.
    const table = sinusoidalTable(config.maxPositions, config.hiddenSize);
    expect(maxAbsError(table, stored)).toBeLessThanOrEqual(5e-4);
    const model = new DistilBertModel(config);
    expect(maxAbsError(model.embeddings.position_embeddings.weight.dataSync(), table)).toBe(0);
    expect(model.embeddings.position_embeddings.weight.requiresGrad).toBe(false);
    expect(model.embeddings.word_embeddings.weight.requiresGrad).toBe(true);
    model.dispose();
  });

  it('ALBERT shares layers: num_hidden_layers applications of num_hidden_groups x inner_group_num distinct layers', () => {
    const config = readHfConfig(fixtureDir('albert'));
    if (config.modelType !== 'albert') throw new Error(`the albert fixture is '${config.modelType}'`);
    expect([config.numLayers, config.numHiddenGroups, config.innerGroupNum]).toEqual([4, 2, 2]);
    const model = new AlbertModel(config);
    expect([0, 1, 2, 3].map((i) => model.encoder.groupOf(i))).toEqual([0, 0, 1, 1]);
    const layers = new Set(model.namedParameters().map(([n]) => n.match(/^encoder\.albert_layer_groups\.(\d+)\.albert_layers\.(\d+)\./)?.slice(1).join('.')).filter(Boolean));
    expect([...layers].sort()).toEqual(['0.0', '0.1', '1.0', '1.1']);
    // Factorised embeddings: E = 8 wide, projected to H = 16.
    expect(model.embeddings.word_embeddings.weight.shape).toEqual([config.vocabSize, 8]);
    expect(model.encoder.embedding_hidden_mapping_in.weight.shape).toEqual([16, 8]);
    model.dispose();
  });

  it("RoBERTa numbers positions from pad_token_id + 1 and allows max_position_embeddings - 2 subwords", () => {
    const config = readHfConfig(fixtureDir('roberta'));
    expect([config.padTokenId, config.positionOffset, config.maxPositions, config.typeVocabSize]).toEqual([1, 2, 34, 1]);
    const encoder = createEncoder(config);
    expect(encoder.maxInputLength).toBe(32);
    const ids = (n: number) => ids2d([Array.from({ length: n }, (_, i) => 5 + (i % 20))]);
    expect(() => tidy(() => encoder.forward(ids(32)).lastHiddenState)).not.toThrow();
    expect(() => encoder.forward(ids(33))).toThrow(/33 subwords is longer than the position table \(max_position_embeddings = 34, RoBERTa positions from 2: at most 32 subwords\)/);
    expect(() => encoder.forward(ids(3), { tokenTypeIds: ids2d([[0, 1, 0]]) })).toThrow(/id 1 .* outside the table of 1 rows/);
    encoder.dispose();
  });

  it('DistilBERT rejects token types; ALBERT and DistilBERT check their masks', () => {
    const distil = createEncoder(readHfConfig(fixtureDir('distilbert')));
    expect(() => distil.forward(ids2d([[2, 5, 3]]), { tokenTypeIds: ids2d([[0, 0, 1]]) })).toThrow(/DistilBertModel: tokenTypeIds\[0, 2\] is 1, but the model has no token types/);
    expect(() => distil.forward(ids2d([[2, 5, 3]]), { attentionMask: mask2d([[0, 1, 1]]) })).toThrow(/attentionMask row 0 starts with 0/);
    const albert = createEncoder(readHfConfig(fixtureDir('albert')));
    expect(() => albert.forward(ids2d([[2, 5, 3]]), { attentionMask: mask2d([[1, 1]]) })).toThrow(/AlbertModel: attentionMask must be f32 \[1, 3\]/);
    distil.dispose();
    albert.dispose();
  });
});
