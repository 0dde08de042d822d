// Fine-tuning ModernBERT end to end (issue 18, item 4): the tiny Hugging Face directory of
// tools/reference/make_modernbert_fixtures.py (config.json with model_type modernbert, a
// ModernBertForMaskedLM model.safetensors, a WordPiece vocab.txt) -> `medner train --pretrained` (the
// real CLI, as a child process) -> `medner eval` -> `medner predict` -> `medner export --format hf`,
// whose ModernBertForTokenClassification directory loads back with identical predictions. Then the same
// with ModernBERT's own kind of tokenizer: a byte-level BPE tokenizer.json (GPT-NeoX's, from the OLMo
// fixture, with ModernBERT's [UNK] [CLS] [SEP] [PAD] [MASK] and its [CLS] $A [SEP] template).

import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cpuBackend } from '../../src/backend/registry.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { tagSentences } from '../../src/train/evaluate.js';
import { parseConll } from '../../src/data/conll.js';
import { SafetensorsReader, saveSafetensors } from '../../src/io/safetensors.js';
import { Rng } from '../../src/tensor/random.js';
import { ModernBertModel } from '../../src/nn/modernbert.js';
import type { BertTagger } from '../../src/models/bert-tagger.js';
import { BC5CDR_IOB, medner, scratch } from '../interop/helpers.js';
import { fixtureDir } from '../pretrained/helpers.js';

const SENTENCES = parseConll(readFileSync(BC5CDR_IOB, 'utf8'));
const TEXT = 'Naloxone reverses the antihypertensive effect of clonidine.';

async function tagsOf(dir: string) {
  const loaded = await loadCheckpoint(dir, cpuBackend);
  try {
    const { tags } = await tagSentences(loaded.model, loaded.encoder, loaded.config.labels, SENTENCES, cpuBackend);
    return { tags, model: loaded.config.model, encoder: (loaded.model as unknown as BertTagger).bert };
  } finally {
    loaded.model.dispose();
  }
}

describe('ModernBERT: medner train --pretrained -> eval -> predict -> export --format hf', () => {
  it('fine-tunes the tiny checkpoint through the CLI, scores it, tags text and round-trips through a Hugging Face directory', async () => {
    const dir = scratch('medner-modernbert-');
    const out = join(dir, 'run');
    const run = spawnSync(
      process.execPath,
      ['src/cli/bin.js', 'train', '--pretrained', fixtureDir('modernbert'), '--model', 'bert-crf', '--train', BC5CDR_IOB, '--dev', BC5CDR_IOB,
        '--epochs', '2', '--batch-size', '4', '--encoder-lr', '0.001', '--lr', '0.01', '--constraints', 'decode', '--out', out, '--no-progress'],
      { encoding: 'utf8' },
    );
    expect(run.stderr).not.toMatch(/medner:/);
    expect(run.status).toBe(0);
    // Every encoder tensor and the prediction head came from the file; the masked-LM decoder's bias was skipped.
    expect(run.stdout).toMatch(/pretrained modernbert: loaded 22 encoder tensors from .*; ignored 1 checkpoint tensors not used for token classification: ModernBERT masked-LM decoder/);
    expect(run.stdout).toMatch(/model: bert-crf, [\d,]+ parameters/);

    const saved = JSON.parse(readFileSync(join(out, 'best', 'config.json'), 'utf8'));
    expect(saved.bert.model_type).toBe('modernbert');
    const original = await tagsOf(out);
    expect(original.encoder).toBeInstanceOf(ModernBertModel);

    const scores = JSON.parse(await medner('eval', '--model', out, '--data', BC5CDR_IOB, '--json'));
    expect(scores.micro.f1).toBeGreaterThanOrEqual(0);
    expect(scores.micro.f1).toBeLessThanOrEqual(1);
    expect(scores.token_accuracy).toBeGreaterThan(0);
    const line = JSON.parse(await medner('predict', '--model', out, TEXT));
    expect(line.text).toBe(TEXT);
    expect(Array.isArray(line.entities)).toBe(true);

    // Export: ModernBertForTokenClassification's names -- model.* for the encoder, head.* and classifier.* at the top.
    const hf = join(dir, 'hf');
    expect(await medner('export', '--model', out, '--format', 'hf', '--out', hf)).toContain('ModernBertForTokenClassification');
    expect(readdirSync(hf)).toContain('crf.safetensors');
    const config = JSON.parse(readFileSync(join(hf, 'config.json'), 'utf8'));
    expect(config).toMatchObject({ model_type: 'modernbert', architectures: ['ModernBertForTokenClassification'], local_attention: 4, global_attn_every_n_layers: 2, norm_bias: false });
    const names = SafetensorsReader.open(join(hf, 'model.safetensors')).names();
    expect(names).toEqual(expect.arrayContaining(['model.embeddings.tok_embeddings.weight', 'model.layers.1.attn_norm.weight', 'model.final_norm.weight', 'head.dense.weight', 'head.norm.weight', 'classifier.weight', 'classifier.bias']));
    expect(names.every((n) => /^(model|head|classifier)\./.test(n))).toBe(true);
    expect(names).not.toContain('model.layers.0.attn_norm.weight');

    // Back through medner's Hugging Face loader (predict and eval take the directory): the same tags.
    const exported = await tagsOf(hf);
    expect(exported.model).toBe('bert-crf');
    expect(exported.tags).toEqual(original.tags);
    expect(JSON.parse(await medner('predict', '--model', hf, TEXT)).entities).toEqual(line.entities);
    expect(JSON.parse(await medner('eval', '--model', hf, '--data', BC5CDR_IOB, '--json')).micro).toEqual(scores.micro);
  }, 300_000);
});

/**
 * ModernBERT-base's tokenizer as its model card describes it: OLMo's GPT-NeoX tokenizer.json
 * (test/fixtures/tokenizers/olmo) with [UNK] [CLS] [SEP] [PAD] [MASK] added as ids 50280-50284 and a
 * "[CLS] $A [SEP]" template; vocab_size 50368 as in ModernBERT-base's config.json.
 */
function modernBertTokenizerJson(): Record<string, unknown> {
  const olmo = JSON.parse(readFileSync(new URL('../fixtures/tokenizers/olmo/tokenizer.json', import.meta.url), 'utf8')) as { added_tokens: unknown[] } & Record<string, unknown>;
  const specials = ['[UNK]', '[CLS]', '[SEP]', '[PAD]', '[MASK]'].map((content, i) => ({ id: 50280 + i, content, single_word: false, lstrip: content === '[MASK]', rstrip: false, normalized: false, special: true }));
  const token = (name: string, id: number) => ({ id: name, ids: [id], tokens: [name] });
  return {
    ...olmo,
    added_tokens: [...olmo.added_tokens, ...specials],
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }, { Sequence: { id: 'B', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      special_tokens: { '[CLS]': token('[CLS]', 50281), '[SEP]': token('[SEP]', 50282) },
    },
  };
}

describe('ModernBERT with its byte-level BPE tokenizer.json', () => {
  it('fine-tunes, evaluates, predicts and exports a directory whose tokenizer is tokenizer.json', async () => {
    const dir = scratch('medner-modernbert-bpe-');
    const model = join(dir, 'modernbert');
    cpSync(fixtureDir('modernbert'), model, { recursive: true });
    for (const f of ['vocab.txt', 'tokenizer_config.json', 'expected.json', 'gradients.json']) rmSync(join(model, f));
    writeFileSync(join(model, 'tokenizer.json'), JSON.stringify(modernBertTokenizerJson()));
    writeFileSync(join(model, 'tokenizer_config.json'), JSON.stringify({ tokenizer_class: 'PreTrainedTokenizerFast', model_max_length: 8192, unk_token: '[UNK]', cls_token: '[CLS]', sep_token: '[SEP]', pad_token: '[PAD]', mask_token: '[MASK]', clean_up_tokenization_spaces: true }));
    const config = JSON.parse(readFileSync(join(model, 'config.json'), 'utf8'));
    writeFileSync(join(model, 'config.json'), JSON.stringify({ ...config, vocab_size: 50368, pad_token_id: 50283, cls_token_id: 50281, sep_token_id: 50282, bos_token_id: 50281, eos_token_id: 50282 }));
    // The tiny encoder's weights, with a token table as wide as ModernBERT-base's vocabulary.
    const reader = SafetensorsReader.open(join(model, 'model.safetensors'));
    const tensors = new Map(reader.names().map((n) => [n, { shape: [...reader.entry(n).shape], data: reader.readFloat32(n) }] as const));
    reader.close();
    const rng = new Rng(18);
    const table = Float32Array.from({ length: 50368 * 32 }, () => 0.1 * rng.normal());
    table.fill(0, 50283 * 32, 50284 * 32); // the [PAD] row, as padding_idx leaves it
    tensors.set('model.embeddings.tok_embeddings.weight', { shape: [50368, 32], data: table });
    tensors.set('decoder.bias', { shape: [50368], data: new Float32Array(50368) });
    await saveSafetensors(join(model, 'model.safetensors'), tensors, { metadata: { format: 'pt' } });

    const out = join(dir, 'run');
    const printed = await medner('train', '--pretrained', model, '--model', 'bert-bilstm-crf', '--train', BC5CDR_IOB, '--epochs', '1', '--batch-size', '4', '--constraints', 'decode', '--out', out, '--no-progress');
    expect(printed).toMatch(/pretrained modernbert: loaded 22 encoder tensors/);
    const original = await tagsOf(out);
    expect(original.encoder).toBeInstanceOf(ModernBertModel);
    expect(readdirSync(join(out, 'best'))).toContain('tokenizer.json');

    const scores = JSON.parse(await medner('eval', '--model', out, '--data', BC5CDR_IOB, '--json'));
    expect(scores.sentences).toBe(SENTENCES.length);
    const line = JSON.parse(await medner('predict', '--model', out, TEXT));
    for (const e of line.entities as { start: number; end: number; text: string }[]) expect(TEXT.slice(e.start, e.end)).toBe(e.text);

    const hf = join(dir, 'hf');
    expect(await medner('export', '--model', out, '--format', 'hf', '--out', hf)).toContain('ModernBertForTokenClassification');
    expect(readdirSync(hf)).toEqual(expect.arrayContaining(['tokenizer.json', 'tokenizer_config.json', 'model.safetensors', 'crf.safetensors']));
    expect((await tagsOf(hf)).tags).toEqual(original.tags);
    expect(JSON.parse(await medner('predict', '--model', hf, TEXT)).entities).toEqual(line.entities);
  }, 600_000);
});
