// `medner export --format hf`: the directory has Hugging Face's layout and names (config.json with
// model_type, architectures, id2label/label2id; model.safetensors under bert.*/classifier.*; vocab.txt,
// tokenizer_config.json), the CRF (and BiLSTM) in crf.safetensors, and it loads back through medner's
// Hugging Face loader with identical predictions. (tools/reference/verify_hf_export.py checks it with
// transformers itself where that is installed.)

import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { cpuBackend } from '../../src/backend/registry.js';
import { resolveConfig } from '../../src/train/config.js';
import { train } from '../../src/train/trainer.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { tagSentences } from '../../src/train/evaluate.js';
import { SafetensorsReader } from '../../src/io/safetensors.js';
import { parseConll } from '../../src/data/conll.js';
import { BC5CDR_IOB, medner, scratch } from './helpers.js';

const SENTENCES = parseConll(readFileSync(BC5CDR_IOB, 'utf8'));
const tiny = (model: string) =>
  resolveConfig({ model, epochs: 2, batchSize: 4, bertLayers: 1, bertHidden: 16, bertHeads: 2, bertIntermediate: 32, lstmHidden: 8, lr: 5e-3, dropout: 0.1 }, 'test');

async function scoresOf(dir: string) {
  const loaded = await loadCheckpoint(dir, cpuBackend);
  try {
    const { tags, confidences } = await tagSentences(loaded.model, loaded.encoder, loaded.config.labels, SENTENCES, cpuBackend, { confidences: true });
    return { tags, confidences, labels: loaded.config.labels, model: loaded.config.model };
  } finally {
    loaded.model.dispose();
  }
}

describe('export --format hf', () => {
  for (const [model, headFile] of [['bert-softmax', false], ['bert-crf', true], ['bert-bilstm-crf', true]] as const) {
    it(`${model}: HF layout and names; loads back with identical predictions`, async () => {
      const dir = scratch();
      const out = join(dir, 'run');
      await train({ config: tiny(model), train: BC5CDR_IOB, out, backend: cpuBackend, log: () => undefined, progress: false });
      const hf = join(dir, 'hf');
      const printed = await medner('export', '--model', out, '--format', 'hf', '--out', hf);
      expect(printed).toContain('BertForTokenClassification');
      expect(readdirSync(hf).sort()).toEqual(['README.md', 'config.json', ...(headFile ? ['crf.safetensors'] : []), 'model.safetensors', 'special_tokens_map.json', 'tokenizer_config.json', 'vocab.txt']);

      const config = JSON.parse(readFileSync(join(hf, 'config.json'), 'utf8'));
      const medner_ = JSON.parse(readFileSync(join(out, 'best', 'config.json'), 'utf8'));
      expect(config).toMatchObject({ model_type: 'bert', architectures: ['BertForTokenClassification'], hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 32 });
      expect(Object.values(config.id2label)).toEqual(medner_.labels);
      for (const [id, label] of Object.entries(config.id2label)) expect(config.label2id[label as string]).toBe(Number(id));
      expect(readFileSync(join(hf, 'vocab.txt'), 'utf8').split('\n')[config.pad_token_id]).toBe('[PAD]');
      expect(JSON.parse(readFileSync(join(hf, 'tokenizer_config.json'), 'utf8'))).toMatchObject({ tokenizer_class: 'BertTokenizer', cls_token: '[CLS]', sep_token: '[SEP]' });

      // HF's parameter names: BertForTokenClassification's, nothing else, in model.safetensors.
      const names = SafetensorsReader.open(join(hf, 'model.safetensors')).names();
      expect(names).toContain('bert.embeddings.word_embeddings.weight');
      expect(names).toContain('bert.encoder.layer.0.attention.self.query.weight');
      expect(names).toContain('bert.embeddings.LayerNorm.weight');
      expect(names.every((n) => n.startsWith('bert.') || n.startsWith('classifier.'))).toBe(true);
      expect(names.includes('classifier.weight')).toBe(model !== 'bert-bilstm-crf');
      if (headFile) {
        const head = SafetensorsReader.open(join(hf, 'crf.safetensors')).names();
        expect(head).toEqual(expect.arrayContaining(['crf.transitions', 'crf.start_transitions', 'crf.end_transitions']));
        if (model === 'bert-bilstm-crf') expect(head).toEqual(expect.arrayContaining(['classifier.weight', 'lstm.weight_ih_l0', 'lstm.weight_hh_l0_reverse']));
        // The scheme's constraints as 0/1 masks: in BIO, O is never followed by I-X, and no sentence starts with I-X.
        const reader = SafetensorsReader.open(join(hf, 'crf.safetensors'));
        const allowed = reader.readFloat32('crf.allowed_transitions');
        const labels: string[] = Object.values(config.id2label);
        const C = labels.length;
        const o = labels.indexOf('O');
        labels.forEach((l, j) => expect(allowed[o * C + j]).toBe(l.startsWith('I-') ? 0 : 1));
        labels.forEach((l, j) => expect(reader.readFloat32('crf.allowed_start')[j]).toBe(l.startsWith('I-') ? 0 : 1));
      }
      expect(readFileSync(join(hf, 'README.md'), 'utf8')).toContain('AutoModelForTokenClassification.from_pretrained');

      // Back through medner's Hugging Face loader: the same model, the same predictions and scores.
      const original = await scoresOf(out);
      const exported = await scoresOf(hf);
      expect(exported.model).toBe(model);
      expect(exported.labels).toEqual(original.labels);
      expect(exported.tags).toEqual(original.tags);
      expect(exported.confidences).toEqual(original.confidences);
      // And through the CLI: predict and eval accept the directory.
      const line = JSON.parse(await medner('predict', '--model', hf, 'Naloxone reverses the antihypertensive effect of clonidine.'));
      expect(line.entities).toEqual(JSON.parse(await medner('predict', '--model', out, 'Naloxone reverses the antihypertensive effect of clonidine.')).entities);
      const evalHf = JSON.parse(await medner('eval', '--model', hf, '--data', BC5CDR_IOB, '--json'));
      const evalMedner = JSON.parse(await medner('eval', '--model', out, '--data', BC5CDR_IOB, '--json'));
      expect(evalHf.micro).toEqual(evalMedner.micro);
    }, 120_000);
  }

  it('refuses a BiLSTM-CRF on word embeddings, which has no transformers class', async () => {
    const dir = scratch();
    const out = join(dir, 'run');
    await train({ config: resolveConfig({ epochs: 1, wordDim: 8, charDim: 4, charFilters: 4, lstmHidden: 8 }, 'test'), train: BC5CDR_IOB, out, backend: cpuBackend, log: () => undefined, progress: false });
    await expect(medner('export', '--model', out, '--out', join(dir, 'hf'))).rejects.toThrow('a bilstm-crf has no Hugging Face architecture');
    expect(readdirSync(dir)).toEqual(['run']);
  }, 60_000);
});
