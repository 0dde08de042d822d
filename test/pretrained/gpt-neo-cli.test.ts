// Issue 18: a GPT-Neo directory through the whole CLI -- `medner train --pretrained` on the tiny
// GPT-Neo checkpoint (test/fixtures/hf/gpt_neo), then eval, predict, and `export --format hf`,
// whose directory (GPTNeoForTokenClassification, transformer.* names) loads back with the same
// predictions and scores.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SafetensorsReader } from '../../src/io/safetensors.js';
import { medner } from '../interop/helpers.js';
import { fixtureDir, scratchDir, smallConll } from './helpers.js';

const scratch = scratchDir();
afterAll(() => scratch.cleanup());
const corpus = smallConll(scratch.dir, 8);
const TEXT = 'Cisplatin induced nephrotoxicity in the patient.';

describe('GPT-Neo from a Hugging Face directory through the CLI', () => {
  it('train --pretrained -> eval -> predict -> export --format hf -> predict and eval again', async () => {
    const out = join(scratch.dir, 'run');
    const log = await medner('train', '--pretrained', fixtureDir('gpt_neo'), '--model', 'bert-bilstm-crf', '--train', corpus, '--dev', corpus,
      '--epochs', '2', '--batch-size', '4', '--encoder-lr', '0.001', '--lr', '0.01', '--constraints', 'decode', '--out', out, '--no-progress');
    expect(log).toMatch(/pretrained gpt_neo: loaded 43 encoder tensors from .*; ignored 7 checkpoint tensors not used for token classification: language-model head .*; GPT-Neo causal-mask buffers/);
    expect(JSON.parse(readFileSync(join(out, 'best', 'config.json'), 'utf8')).bert).toMatchObject({ model_type: 'gpt_neo', window_size: 3, attention_types: [[['global', 'local'], 1], [['global'], 1]] });

    const scores = JSON.parse(await medner('eval', '--model', out, '--data', corpus, '--json'));
    expect(scores.micro.f1).toBeGreaterThanOrEqual(0);
    expect(scores.micro.f1).toBeLessThanOrEqual(1);
    const predicted = JSON.parse(await medner('predict', '--model', out, TEXT));
    expect(predicted.text).toBe(TEXT);
    expect(Array.isArray(predicted.entities)).toBe(true);

    const hf = join(scratch.dir, 'hf');
    expect(await medner('export', '--model', out, '--format', 'hf', '--out', hf)).toContain('GPTNeoForTokenClassification');
    const config = JSON.parse(readFileSync(join(hf, 'config.json'), 'utf8'));
    expect(config).toMatchObject({ model_type: 'gpt_neo', architectures: ['GPTNeoForTokenClassification'], hidden_size: 32, num_layers: 3, num_heads: 2, window_size: 3 });
    const names = SafetensorsReader.open(join(hf, 'model.safetensors')).names();
    expect(names).toEqual(expect.arrayContaining(['transformer.wte.weight', 'transformer.wpe.weight', 'transformer.h.1.attn.attention.q_proj.weight', 'transformer.h.2.mlp.c_fc.bias', 'transformer.ln_f.weight']));
    expect(names.every((n) => n.startsWith('transformer.'))).toBe(true); // the BiLSTM's classifier sits in crf.safetensors

    expect(JSON.parse(await medner('predict', '--model', hf, TEXT))).toEqual(predicted);
    expect(JSON.parse(await medner('eval', '--model', hf, '--data', corpus, '--json')).micro).toEqual(scores.micro);
  }, 180_000);
});
