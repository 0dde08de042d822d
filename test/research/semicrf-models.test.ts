// The semi-Markov CRF in the product: `--model bilstm-semicrf`, `--crf semi-markov` on a BERT
// model, checkpoints that reload to the same predictions, confidences from its marginals.

import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuBackend } from '../../src/backend/registry.js';
import { resolveConfig } from '../../src/train/config.js';
import { train } from '../../src/train/trainer.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { loadSentences } from '../../src/train/corpus.js';
import { evaluate, tagSentences } from '../../src/train/evaluate.js';
import { SemiMarkovCrfVariant } from '../../src/crf/semi-markov.js';

const CORPUS = 'test/fixtures/data/ncbi-disease/sample.iob.tsv';
const quiet = { log: () => {}, progress: false };
const tiny = (extra: Record<string, unknown>) =>
  resolveConfig({ epochs: 6, batchSize: 4, lr: 0.05, warmup: 0, dropout: 0.1, patience: 40, wordDim: 16, charDim: 8, charFilters: 8, lstmHidden: 16, bertLayers: 1, bertHidden: 16, bertHeads: 2, bertIntermediate: 32, ...extra }, 'test');

describe('semi-Markov CRF models', () => {
  it('bilstm-semicrf learns the sample, saves crf.length_scores, reloads to the same predictions', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'medner-semi-')), 'run');
    const result = await train({ config: tiny({ model: 'bilstm-semicrf', maxSegmentLength: 5 }), train: CORPUS, test: CORPUS, out, backend: cpuBackend, ...quiet });
    expect(result.test!.f1).toBeGreaterThan(0.5);
    const { model, encoder, config } = await loadCheckpoint(out, cpuBackend);
    expect(config.train.crf).toBe('semi-markov');
    expect(model.crf).toBeInstanceOf(SemiMarkovCrfVariant);
    expect(model.namedParameters().map(([n]) => n)).toContain('crf.length_scores');
    const data = await loadSentences(CORPUS, 'conll', 'BIO');
    const { scores } = await evaluate(model, encoder, config.labels, data.sentences, cpuBackend, 'BIO');
    expect(scores.micro.f1).toBeCloseTo(result.test!.f1, 10);
    const tagged = await tagSentences(model, encoder, config.labels, data.sentences.slice(0, 3), cpuBackend, { confidences: true });
    for (const row of tagged.confidences!) for (const p of row) expect(p).toBeGreaterThan(0), expect(p).toBeLessThanOrEqual(1 + 1e-5);
    model.dispose();
  }, 120_000);

  it('--crf semi-markov on bert-crf with BIOES trains and decodes valid tags', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'medner-semi-')), 'run');
    const result = await train({ config: tiny({ model: 'bert-crf', crf: 'semi-markov', scheme: 'BIOES', epochs: 2, lr: 1e-3 }), train: CORPUS, test: CORPUS, out, backend: cpuBackend, ...quiet });
    expect(result.history).toHaveLength(2);
    expect(result.history[1]!.trainLoss).toBeLessThan(result.history[0]!.trainLoss);
    const { model, config } = await loadCheckpoint(out, cpuBackend);
    expect(config.train.crf).toBe('semi-markov');
    expect(config.labels).toContain('E-Disease');
    model.dispose();
  }, 120_000);

  it('rejects an unknown variant and a bad segment length with the setting named', () => {
    expect(() => resolveConfig({ crf: 'cubic' }, 'run.json')).toThrow(/run.json: "crf" must be one of linear, semi-markov/);
    expect(() => resolveConfig({ maxSegmentLength: 0 }, 'run.json')).toThrow(/"maxSegmentLength" must be a positive integer/);
  });
});
