// Issue 7, bad input for pretrained directories: a pickle-only directory gets the conversion
// recipe; a mis-shaped or missing tensor is named with both shapes; a config of another
// architecture than the model is refused; an unsupported tokenizer model is refused clearly, and
// WordPiece tokenizer.json / tokenizer_config.json are honoured; BPE files are read, bad ones named.

import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cpuBackend, setBackend } from '../../src/index.js';
import { SafetensorsReader, saveSafetensors, type HostTensor } from '../../src/io/safetensors.js';
import { readHfConfig } from '../../src/io/hf-config.js';
import { BertCrf } from '../../src/models/bert-tagger.js';
import { loadPretrainedEncoder, loadPretrainedTokenizer } from '../../src/train/pretrained.js';
import { fixtureDir, scratchDir } from './helpers.js';

setBackend(cpuBackend);
const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

function scratch(from?: Parameters<typeof scratchDir>[0]): string {
  const { dir, cleanup } = scratchDir(from);
  cleanups.push(cleanup);
  return dir;
}

const taggerFor = (dir: string) => new BertCrf({ encoder: readHfConfig(dir), numTags: 3 });

/** Rewrites dir/model.safetensors through `edit`, which gets and returns name -> host tensor. */
async function rewriteWeights(dir: string, edit: (tensors: Map<string, HostTensor>) => void): Promise<void> {
  const file = join(dir, 'model.safetensors');
  const reader = SafetensorsReader.open(file);
  const tensors = new Map<string, HostTensor>();
  for (const name of reader.names()) {
    const entry = reader.entry(name);
    tensors.set(name, { shape: entry.shape, data: entry.dtype.startsWith('I') ? reader.readInt32(name) : reader.readFloat32(name) });
  }
  reader.close();
  edit(tensors);
  await saveSafetensors(file, tensors, { metadata: { format: 'pt' } });
}

describe('checkpoint weights', () => {
  it('a directory with only pytorch_model.bin gets the message to convert it, and how', () => {
    const dir = scratch('bert');
    rmSync(join(dir, 'model.safetensors'));
    writeFileSync(join(dir, 'pytorch_model.bin'), 'PK\u0003\u0004 not read');
    const tagger = taggerFor(dir);
    expect(() => loadPretrainedEncoder(tagger, dir, cpuBackend)).toThrow(/has pytorch_model\.bin but no model\.safetensors; medner reads only safetensors[\s\S]*save_file\(/);
  });

  it('a mis-shaped tensor is named with both shapes', async () => {
    const dir = scratch('bert');
    await rewriteWeights(dir, (t) => {
      const w = t.get('bert.encoder.layer.1.intermediate.dense.weight')!;
      expect(w.shape).toEqual([32, 16]);
      t.set('bert.encoder.layer.1.intermediate.dense.weight', { shape: [16, 32], data: w.data });
    });
    const tagger = taggerFor(dir);
    expect(() => loadPretrainedEncoder(tagger, dir, cpuBackend)).toThrow(
      /model\.safetensors: does not fit config\.json \(model_type bert\): 1 tensor\(s\) with the wrong shape, 0 missing:\n {2}bert\.encoder\.layer\.1\.intermediate\.dense\.weight: the checkpoint has \[16, 32\], the model expects \[32, 16\]/,
    );
  });

  it('a missing tensor is named, with the shape the model expects', async () => {
    const dir = scratch('albert');
    await rewriteWeights(dir, (t) => t.delete('albert.encoder.albert_layer_groups.1.albert_layers.0.ffn_output.bias'));
    const tagger = taggerFor(dir);
    expect(() => loadPretrainedEncoder(tagger, dir, cpuBackend)).toThrow(
      /0 tensor\(s\) with the wrong shape, 1 missing:\n {2}encoder\.albert_layer_groups\.1\.albert_layers\.0\.ffn_output\.bias: missing from the checkpoint \(the model expects \[16\]/,
    );
  });

  it('a config.json whose sizes do not match the weights lists every mismatch', () => {
    const dir = scratch('distilbert');
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, hidden_dim: 40 }));
    const tagger = taggerFor(dir);
    expect(() => loadPretrainedEncoder(tagger, dir, cpuBackend)).toThrow(/6 tensor\(s\) with the wrong shape[\s\S]*distilbert\.transformer\.layer\.0\.ffn\.lin1\.weight: the checkpoint has \[48, 24\], the model expects \[40, 24\]/);
  });

  it('a model built for another architecture is refused before any tensor is read', () => {
    const tagger = taggerFor(fixtureDir('bert'));
    expect(() => loadPretrainedEncoder(tagger, fixtureDir('roberta'), cpuBackend)).toThrow(/config\.json: model_type is 'roberta' but the model's encoder is 'bert'/);
  });

  it('an integer tensor where a weight belongs is an error naming it', async () => {
    const dir = scratch('roberta');
    await rewriteWeights(dir, (t) => t.set('roberta.embeddings.LayerNorm.bias', { shape: [16], data: new Int32Array(16) }));
    const tagger = taggerFor(dir);
    expect(() => loadPretrainedEncoder(tagger, dir, cpuBackend)).toThrow(/roberta\.embeddings\.LayerNorm\.bias.*dtype I32 is not a float type/);
  });

  it('tensors that are neither the encoder nor a known head are reported as unused', async () => {
    const dir = scratch('bert');
    await rewriteWeights(dir, (t) => t.set('bert.encoder.layer.2.output.dense.bias', { shape: [16], data: new Float32Array(16) }));
    const summary = loadPretrainedEncoder(taggerFor(dir), dir, cpuBackend);
    expect(summary).toMatch(/ignored 5 checkpoint tensors not used for token classification: .*pooler.*; 1 unused: bert\.encoder\.layer\.2\.output\.dense\.bias/);
  });
});

describe('tokenizers', () => {
  it('a tokenizer.json whose model medner does not implement is refused, naming the file and the model', async () => {
    const dir = scratch('roberta');
    rmSync(join(dir, 'vocab.txt'));
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify({ version: '1.0', model: { type: 'WordLevel', vocab: { a: 0 } } }));
    await expect(loadPretrainedTokenizer(dir)).rejects.toThrow(/tokenizer\.json: tokenizer model "WordLevel" is not supported/);
  });

  it('vocab.json without merges.txt says which file is missing; a bad merges line names its line', async () => {
    const dir = scratch('roberta');
    rmSync(join(dir, 'vocab.txt'));
    writeFileSync(join(dir, 'vocab.json'), '{"<s>": 0, "</s>": 1, "a": 2, "b": 3, "ab": 4}');
    await expect(loadPretrainedTokenizer(dir)).rejects.toThrow(/merges\.txt: missing; a byte-level BPE tokenizer needs both vocab\.json and merges\.txt/);
    writeFileSync(join(dir, 'merges.txt'), '#version: 0.2\na b\nab\n');
    await expect(loadPretrainedTokenizer(dir)).rejects.toThrow(/merges\.txt:3: expected two space-separated symbols/);
    writeFileSync(join(dir, 'merges.txt'), '#version: 0.2\na b\n');
    const tokenizer = await loadPretrainedTokenizer(dir);
    expect(tokenizer.kind).toBe('bpe');
    expect(tokenizer.encode('ab').ids).toEqual([0, 4, 1]);
  });

  it('a WordPiece tokenizer.json gives the ids vocab.txt gives', async () => {
    const dir = scratch('roberta');
    const tokens = readFileSync(join(dir, 'vocab.txt'), 'utf8').trimEnd().split('\n');
    rmSync(join(dir, 'vocab.txt'));
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify({
      model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', vocab: Object.fromEntries(tokens.map((t, i) => [t, i])) },
      normalizer: { type: 'BertNormalizer', lowercase: true, strip_accents: null, handle_chinese_chars: true },
    }));
    const fromJson = await loadPretrainedTokenizer(dir);
    const fromTxt = await loadPretrainedTokenizer(fixtureDir('roberta'));
    const words = ['Cisplatin', 'induced', 'nephrotoxicity', '.'];
    expect(fromJson.encodeWords(words).ids).toEqual(fromTxt.encodeWords(words).ids);
    expect(fromJson.padId).toBe(1);
  });

  it("tokenizer_config.json's do_lower_case and special tokens are honoured", async () => {
    const dir = scratch('bert');
    const lowercased = await loadPretrainedTokenizer(dir);
    expect(lowercased.encodeWords(['Fever']).ids).toEqual(lowercased.encodeWords(['fever']).ids);
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ do_lower_case: false }));
    const cased = await loadPretrainedTokenizer(dir);
    expect(cased.encodeWords(['Fever']).ids).not.toEqual(cased.encodeWords(['fever']).ids);
    // Specials renamed in the vocabulary (as a RoBERTa-style WordPiece vocabulary might): tokenizer_config.json says which.
    const vocab = readFileSync(join(dir, 'vocab.txt'), 'utf8').replace('[CLS]', '<s>').replace('[SEP]', '</s>');
    writeFileSync(join(dir, 'vocab.txt'), vocab);
    await expect(loadPretrainedTokenizer(dir)).rejects.toThrow(/vocab\.txt: vocabulary has no special token \[CLS\]/);
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ do_lower_case: true, cls_token: '<s>', sep_token: { content: '</s>', lstrip: false } }));
    const renamed = await loadPretrainedTokenizer(dir);
    expect([renamed.clsId, renamed.sepId]).toEqual([2, 3]);
  });

  it('a directory with no tokenizer says what it looked for', async () => {
    const dir = scratch();
    await expect(loadPretrainedTokenizer(dir)).rejects.toThrow(/no tokenizer found \(looked for tokenizer\.json, vocab\.json, merges\.txt, spiece\.model, vocab\.txt\)/);
  });
});
