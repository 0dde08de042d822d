// predict and eval take a Hugging Face token-classification directory (BertForTokenClassification,
// RobertaFor..., DistilBertFor..., AlbertFor..., GPTNeoFor..., ModernBertFor...; labels from id2label). The fixtures in
// test/fixtures/hf-ner were written by tools/reference/make_hf_ner_fixtures.py with HF's layout and
// names; their expected.json holds the logits HF's forward gives.

import { describe, expect, it } from 'vitest';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuBackend } from '../../src/backend/registry.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { tagSentences } from '../../src/train/evaluate.js';
import { disposeBatch } from '../../src/models/batch.js';
import { medner, scratch } from './helpers.js';

const ARCHS = ['bert', 'roberta', 'distilbert', 'albert', 'gpt_neo', 'modernbert'] as const;
const fixture = (arch: string) => fileURLToPath(new URL(`../fixtures/hf-ner/${arch}`, import.meta.url));
interface Expected {
  words: string[][];
  inputIds: number[][];
  attentionMask: number[][];
  labels: string[];
  logits: { shape: [number, number, number]; data: number[] };
}
const expectedOf = (arch: string) => JSON.parse(readFileSync(join(fixture(arch), 'expected.json'), 'utf8')) as Expected;
// Row 1 of the BERT fixture is a sentence pair (token types 1): medner feeds single sentences.
const rowsOf = (arch: string) => (arch === 'bert' ? [0, 2] : [0, 1, 2]);

describe('Hugging Face token-classification directories', () => {
  for (const arch of ARCHS) {
    it(`${arch}: labels from id2label, HF's logits on every word's first subword, argmax predictions`, async () => {
      const expected = expectedOf(arch);
      const loaded = await loadCheckpoint(fixture(arch), cpuBackend);
      try {
        expect(loaded.config.labels).toEqual(expected.labels);
        expect(loaded.config.model).toBe('bert-softmax');
        const [, S, C] = expected.logits.shape;
        loaded.model.eval();
        for (const row of rowsOf(arch)) {
          const words = expected.words[row]!;
          const { batch } = loaded.encoder.encode([{ tokens: words, tags: words.map(() => 'O') }], null, cpuBackend);
          try {
            const ids = Array.from(await batch.subwordIds!.data());
            const real = expected.attentionMask[row]!.filter((m) => m === 1).length;
            expect(ids).toEqual(expected.inputIds[row]!.slice(0, real));
            const emissions = await loaded.model.emissions(batch).emissions.data();
            const starts = Array.from(batch.hostWordStarts![0]!);
            let worst = 0;
            starts.forEach((s, t) => {
              for (let c = 0; c < C; c++) worst = Math.max(worst, Math.abs(emissions[t * C + c]! - expected.logits.data[(row * S + s) * C + c]!));
            });
            expect(worst).toBeLessThan(1e-4);
          } finally {
            disposeBatch(batch);
          }
        }
        // Predictions: the argmax of HF's logits at each word's first subword.
        const sentences = rowsOf(arch).map((r) => ({ tokens: expected.words[r]!, tags: expected.words[r]!.map(() => 'O') }));
        const { tags } = await tagSentences(loaded.model, loaded.encoder, loaded.config.labels, sentences, cpuBackend);
        const argmax = rowsOf(arch).map((r, i) => {
          const { batch } = loaded.encoder.encode([sentences[i]!], null, cpuBackend);
          const starts = Array.from(batch.hostWordStarts![0]!);
          disposeBatch(batch);
          return starts.map((s) => {
            const row = expected.logits.data.slice((r * S + s) * C, (r * S + s + 1) * C);
            return expected.labels[row.indexOf(Math.max(...row))]!;
          });
        });
        expect(tags).toEqual(argmax);
        expect(new Set(tags.flat()).size).toBeGreaterThan(1);
      } finally {
        loaded.model.dispose();
      }
    });
  }

  it('predict and eval accept the directory from the command line', async () => {
    const dir = scratch();
    const expected = expectedOf('roberta');
    const corpus = join(dir, 'gold.tsv');
    writeFileSync(corpus, expected.words.map((ws) => ws.map((w, i) => `${w}\t${i === 4 ? 'B-Chemical' : 'O'}`).join('\n')).join('\n\n') + '\n');
    const scores = JSON.parse(await medner('eval', '--model', fixture('roberta'), '--data', corpus, '--json'));
    expect(scores.sentences).toBe(3);
    expect(scores.unmatched_types.model_only).toEqual(['Disease']);
    const line = JSON.parse((await medner('predict', '--model', fixture('roberta'), '--format', 'conll', '--input', corpus)).split('\n')[0]!);
    expect(line.tokens).toEqual(expected.words[0]);
  });

  it('refuses placeholder labels and a classifier of the wrong size, naming the file', async () => {
    const dir = scratch();
    cpSync(fixture('bert'), join(dir, 'm'), { recursive: true });
    const configPath = join(dir, 'm', 'config.json');
    const config = JSON.parse(readFileSync(configPath, 'utf8'));
    writeFileSync(configPath, JSON.stringify({ ...config, id2label: { 0: 'LABEL_0', 1: 'LABEL_1' } }));
    await expect(loadCheckpoint(join(dir, 'm'), cpuBackend)).rejects.toThrow(/config\.json: id2label 0 is "LABEL_0".*placeholders/);
    writeFileSync(configPath, JSON.stringify({ ...config, id2label: { 0: 'O', 1: 'B-X', 2: 'I-X' } }));
    await expect(loadCheckpoint(join(dir, 'm'), cpuBackend)).rejects.toThrow(/classifier\.weight: the checkpoint has \[5, 16\], the model expects \[3, 16\]/);
  });
});
