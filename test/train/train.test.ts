// The training pipeline end to end on a small committed corpus: checkpoints
// reload to the same predictions, a resumed run ends where an uninterrupted one
// does, the same seed gives the same model, and bad input fails cleanly.

import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpuBackend } from '../../src/backend/registry.js';
import { resolveConfig } from '../../src/train/config.js';
import { train } from '../../src/train/trainer.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { loadSentences } from '../../src/train/corpus.js';
import { evaluate } from '../../src/train/evaluate.js';
import { predictText } from '../../src/cli/predict.js';

const CORPUS = 'test/fixtures/data/ncbi-disease/sample.iob.tsv';
const tiny = (extra: Record<string, unknown> = {}) =>
  resolveConfig({ epochs: 3, batchSize: 8, wordDim: 16, charDim: 8, charFilters: 8, lstmHidden: 16, lr: 0.01, patience: 5, ...extra }, 'test');
const quiet = { log: () => undefined, progress: false } as const;
const scratch = () => mkdtempSync(join(tmpdir(), 'medner-train-'));
const weights = (dir: string) => readFileSync(join(dir, 'model.safetensors'));

describe('training pipeline', () => {
  it('trains, keeps the best checkpoint, writes metrics and a report, and reloads to the same scores', async () => {
    const out = scratch();
    const result = await train({ config: tiny(), train: CORPUS, dev: CORPUS, test: CORPUS, out, backend: cpuBackend, ...quiet });
    expect(result.history).toHaveLength(3);
    expect(result.history[2]!.trainLoss).toBeLessThan(result.history[0]!.trainLoss);
    expect(readdirSync(join(out, 'best')).sort()).toEqual(['README.md', 'chars.txt', 'config.json', 'model.safetensors', 'words.txt']);
    const metrics = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(metrics).toHaveLength(4); // 3 epochs + the test line
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('<svg');
    const loaded = await loadCheckpoint(out, cpuBackend);
    const { sentences } = await loadSentences(CORPUS, 'conll', 'BIO');
    const { scores } = await evaluate(loaded.model, loaded.encoder, loaded.config.labels, sentences, cpuBackend, 'BIO');
    expect(scores.micro.f1).toBeCloseTo(result.test!.f1, 10);
  });

  it('a resumed run ends exactly where an uninterrupted run of the same seed does', async () => {
    const whole = scratch();
    const uninterrupted = await train({ config: tiny(), train: CORPUS, dev: CORPUS, out: whole, backend: cpuBackend, ...quiet });
    const split = scratch();
    await train({ config: tiny(), train: CORPUS, dev: CORPUS, out: split, backend: cpuBackend, ...quiet, onEpochEnd: (r) => (r.epoch === 1 ? 'stop' : undefined) });
    expect(readdirSync(split)).not.toContain('report.html'); // interrupted before the end
    const resumed = await train({ config: tiny(), train: CORPUS, dev: CORPUS, out: split, resume: split, backend: cpuBackend, ...quiet });
    for (const dir of ['best', 'last']) expect(weights(join(split, dir)).equals(weights(join(whole, dir)))).toBe(true);
    expect(resumed.history.map((h) => [h.trainLoss, h.devF1])).toEqual(uninterrupted.history.map((h) => [h.trainLoss, h.devF1]));
    expect(resumed.bestEpoch).toBe(uninterrupted.bestEpoch);
  });

  it('the same seed gives the same model; another seed does not', async () => {
    const [a, b, c] = [scratch(), scratch(), scratch()];
    await train({ config: tiny({ epochs: 1 }), train: CORPUS, out: a, backend: cpuBackend, ...quiet });
    await train({ config: tiny({ epochs: 1 }), train: CORPUS, out: b, backend: cpuBackend, ...quiet });
    await train({ config: tiny({ epochs: 1, seed: 7 }), train: CORPUS, out: c, backend: cpuBackend, ...quiet });
    expect(weights(join(a, 'best')).equals(weights(join(b, 'best')))).toBe(true);
    expect(weights(join(a, 'best')).equals(weights(join(c, 'best')))).toBe(false);
  });

  it('predicted entities carry offsets whose slice is their text', async () => {
    const out = scratch();
    await train({ config: tiny({ epochs: 2 }), train: CORPUS, out, backend: cpuBackend, ...quiet });
    const loaded = await loadCheckpoint(out, cpuBackend);
    const text = 'Hereditary breast cancer and ataxia-telangiectasia.  The APC gene is mutated in colorectal cancer!';
    const entities = await predictText(text, loaded, cpuBackend);
    for (const e of entities) expect(text.slice(e.start, e.end)).toBe(e.text);
    for (const e of entities) expect(e.score).toBeGreaterThan(0);
  });
});

describe('class weights', () => {
  it('weight the softmax head by inverse tag frequency, and are refused for a CRF head', async () => {
    const bert = { model: 'bert-softmax', bertLayers: 1, bertHidden: 16, bertHeads: 2, bertIntermediate: 32, epochs: 1, lr: 1e-3, dropout: 0.1 };
    const plain = await train({ config: tiny(bert), train: CORPUS, out: scratch(), backend: cpuBackend, ...quiet });
    const weighted = await train({ config: tiny({ ...bert, classWeights: true }), train: CORPUS, out: scratch(), backend: cpuBackend, ...quiet });
    expect(weighted.history[0]!.trainLoss).not.toBeCloseTo(plain.history[0]!.trainLoss, 3);
    await expect(train({ config: tiny({ classWeights: true }), train: CORPUS, out: scratch(), backend: cpuBackend, ...quiet })).rejects.toThrow('classWeights applies to the softmax head');
  });
});

describe('bad checkpoints and data', () => {
  it('truncated weights, a config that does not match the weights, a corpus without entities', async () => {
    const out = scratch();
    await train({ config: tiny({ epochs: 1 }), train: CORPUS, out, backend: cpuBackend, ...quiet });
    const best = join(out, 'best');
    const bytes = readFileSync(join(best, 'model.safetensors'));
    writeFileSync(join(best, 'model.safetensors'), bytes.subarray(0, bytes.length - 100));
    await expect(loadCheckpoint(out, cpuBackend)).rejects.toThrow(/model\.safetensors/);
    writeFileSync(join(best, 'model.safetensors'), bytes);
    const config = JSON.parse(readFileSync(join(best, 'config.json'), 'utf8'));
    config.train.lstmHidden = 24;
    writeFileSync(join(best, 'config.json'), JSON.stringify(config));
    await expect(loadCheckpoint(out, cpuBackend)).rejects.toThrow(/model\.safetensors: .*lstm.*\[64, 16\].*\[96, 24\]|model\.safetensors: .*shape/);
    const plain = join(scratch(), 'plain.tsv');
    writeFileSync(plain, 'No\tO\nentities\tO\n\n');
    await expect(train({ config: tiny(), train: plain, out: scratch(), backend: cpuBackend, ...quiet })).rejects.toThrow('no entities found');
  });
});

describe('medner CLI', () => {
  const cli = (args: string[]) => spawnSync(process.execPath, ['src/cli/bin.js', ...args], { encoding: 'utf8' });

  it('a malformed corpus gives a one-line error naming the file and line, exit 1, and no output', () => {
    const dir = scratch();
    const bad = join(dir, 'bad.tsv');
    writeFileSync(bad, 'Aspirin\tB-Chemical\nworks\n\n');
    const out = join(dir, 'out');
    const run = cli(['train', '--train', bad, '--out', out, '--epochs', '1', '--no-progress']);
    expect(run.status).toBe(1);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/bad\.tsv:2/);
    expect(existsSync(join(out, 'best'))).toBe(false);
  });

  it('an unknown setting in --config is named', () => {
    const dir = scratch();
    writeFileSync(join(dir, 'c.json'), JSON.stringify({ epochz: 3 }));
    const run = cli(['train', '--train', CORPUS, '--config', join(dir, 'c.json'), '--out', join(dir, 'o')]);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('unknown setting "epochz"');
  });

  it('train, eval and predict from the command line', () => {
    const dir = scratch();
    const out = join(dir, 'run');
    execFileSync(process.execPath, ['src/cli/bin.js', 'train', '--train', CORPUS, '--dev', CORPUS, '--out', out, '--epochs', '1', '--no-progress', '--config', writeConfig(dir)], { encoding: 'utf8' });
    const evaluation = execFileSync(process.execPath, ['src/cli/bin.js', 'eval', '--model', out, '--test', CORPUS], { encoding: 'utf8' });
    expect(evaluation).toMatch(/micro avg/);
    const json = JSON.parse(execFileSync(process.execPath, ['src/cli/bin.js', 'eval', '--model', out, '--data', CORPUS, '--json'], { encoding: 'utf8' }));
    expect(Object.keys(json)).toEqual(expect.arrayContaining(['micro', 'macro', 'per_type', 'errors']));
    expect(json.per_type.Disease.support).toBeGreaterThan(0);
    const texts = ['Breast cancer is common.  Ovarian cancer is rarer.', 'No entity here', 'The APC gene and colorectal adenomas.'];
    writeFileSync(join(dir, 'in.txt'), texts.join('\n') + '\n');
    execFileSync(process.execPath, ['src/cli/bin.js', 'predict', '--model', out, '--input', join(dir, 'in.txt'), '--out', join(dir, 'pred.jsonl')]);
    const predicted = readFileSync(join(dir, 'pred.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(predicted.map((p) => p.text)).toEqual(texts);
    for (const p of predicted) for (const e of p.entities) {
      expect(p.text.slice(e.start, e.end)).toBe(e.text);
      expect(Object.keys(e).sort()).toEqual(['end', 'label', 'score', 'start', 'text']);
    }
    // stdin streams to stdout; brat output numbers entities T1, T2, ...
    const brat = execFileSync(process.execPath, ['src/cli/bin.js', 'predict', '--model', out, '--input', '-', '--output-format', 'brat'], { input: texts.join('\n'), encoding: 'utf8' });
    for (const line of brat.trim().split('\n').filter(Boolean)) expect(line).toMatch(/^T\d+\t\S+ \d+ \d+\t/);
    const empty = cli(['predict', '--model', out, '--input', join(dir, 'missing-or-empty.txt')]);
    expect(empty.status).toBe(1);
  });
});

function writeConfig(dir: string): string {
  const path = join(dir, 'tiny.json');
  writeFileSync(path, JSON.stringify({ wordDim: 16, charDim: 8, charFilters: 8, lstmHidden: 16, batchSize: 8 }));
  return path;
}

describe('medner bench', () => {
  it('--json --quick prints one object with the documented fields (figures are not checked)', () => {
    const output = execFileSync(process.execPath, ['src/cli/bin.js', 'bench', '--json', '--quick'], { encoding: 'utf8' });
    const report = JSON.parse(output);
    expect(report.backend).toBe('cpu');
    expect(report.adapter).toBeNull();
    expect(report.machine.cores).toBeGreaterThan(0);
    const names = report.results.map((r: { name: string }) => r.name);
    expect(names).toEqual(['matmul', 'softmax', 'layer_norm', 'train_step', 'inference', 'train_step', 'inference']);
    const step = report.results.find((r: { name: string }) => r.name === 'train_step');
    expect(Object.keys(step)).toEqual(expect.arrayContaining(['model', 'config', 'ms', 'tokens_per_s', 'peak_mb']));
  });
});
