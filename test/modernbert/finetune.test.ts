// Fine-tuning ModernBERT end to end (issue 18, item 4): the tiny Hugging Face directory of
// tools/reference/make_modernbert_fixtures.py (config.json with model_type modernbert, a
// ModernBertForMaskedLM model.safetensors, a WordPiece vocab.txt) -> `medner train --pretrained` (the
// real CLI, as a child process) -> `medner eval` -> `medner predict` -> `medner export --format hf`,
// whose ModernBertForTokenClassification directory loads back with identical predictions.

import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cpuBackend } from '../../src/backend/registry.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { tagSentences } from '../../src/train/evaluate.js';
import { parseConll } from '../../src/data/conll.js';
import { SafetensorsReader } from '../../src/io/safetensors.js';
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
