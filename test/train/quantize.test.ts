// int8 checkpoints (issue 15, item 3): `medner quantize` of a BiLSTM-CRF trained on the bundled
// sample tags the sample's test split almost exactly as the float model does; the checkpoint holds
// I8 weights and F32 scales and round-trips bit for bit; a BERT-BiLSTM-CRF quantizes too; predict
// and eval load it through the CLI, train and export refuse it; a damaged one fails with the file named.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, cpSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { cpuBackend, setBackend } from '../../src/backend/registry.js';
import { resolveConfig } from '../../src/train/config.js';
import { train } from '../../src/train/trainer.js';
import { loadCheckpoint, saveCheckpoint } from '../../src/train/checkpoint.js';
import { quantizeCheckpoint } from '../../src/train/quantize.js';
import { loadSentences } from '../../src/train/corpus.js';
import { evaluate } from '../../src/train/evaluate.js';
import { SafetensorsReader } from '../../src/io/safetensors.js';
import { quantizeDynamic } from '../../src/nn/quantize.js';
import { sampleCorpus } from '../../src/data/bundled.js';
import { exportHf } from '../../src/train/export-hf.js';

setBackend(cpuBackend);
const root = mkdtempSync(join(tmpdir(), 'medner-int8-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const quiet = { log: () => undefined, progress: false } as const;
const floatDir = join(root, 'float');
const int8Dir = join(root, 'int8');

const cli = (args: string[]) => spawnSync(process.execPath, ['src/cli/bin.js', ...args], { encoding: 'utf8' });

beforeAll(async () => {
  // A small BiLSTM-CRF (char-CNN on) trained briefly on the bundled BC5CDR sample.
  const config = resolveConfig({ epochs: 2, batchSize: 16, wordDim: 32, charDim: 8, charFilters: 16, lstmHidden: 32, lr: 0.01, dropout: 0.3 }, 'test');
  await train({ config, train: sampleCorpus.train, out: join(root, 'run'), backend: cpuBackend, ...quiet });
  cpSync(join(root, 'run', 'best'), floatDir, { recursive: true });
  await quantizeCheckpoint(floatDir, int8Dir, cpuBackend);
}, 600_000);

describe('medner quantize: a BiLSTM-CRF trained on the bundled sample', () => {
  it('writes I8 weights with F32 per-channel scales, recorded in config.json (version 2); embeddings, char-CNN and CRF stay F32', () => {
    const config = JSON.parse(readFileSync(join(int8Dir, 'config.json'), 'utf8'));
    expect(config.version).toBe(2);
    expect(config.quantization.method).toBe('dynamic-int8');
    expect(config.quantization.parameters).toEqual(['lstm.weight_ih_l0', 'lstm.weight_hh_l0', 'lstm.weight_ih_l0_reverse', 'lstm.weight_hh_l0_reverse', 'classifier.weight']);
    const reader = SafetensorsReader.open(join(int8Dir, 'model.safetensors'));
    try {
      for (const name of config.quantization.parameters) {
        expect(reader.entry(name).dtype).toBe('I8');
        expect(reader.entry(`${name}_scale`).dtype).toBe('F32');
        expect(reader.entry(`${name}_scale`).shape).toEqual([reader.entry(name).shape[0]]);
      }
      expect(reader.entry('word_embeddings.weight').dtype).toBe('F32');
      expect(reader.entry('crf.transitions').dtype).toBe('F32');
      expect(reader.entry('lstm.bias_ih_l0').dtype).toBe('F32');
    } finally {
      reader.close();
    }
    expect(readFileSync(join(int8Dir, 'README.md'), 'utf8')).toContain('int8 (dynamic quantization');
    expect(existsSync(`${int8Dir}.tmp`)).toBe(false);
  });

  it('round trip: the loaded int8 weights are the quantization of the float ones, bit for bit, and saving them again gives the same file', async () => {
    const float = await loadCheckpoint(floatDir, cpuBackend);
    const int8 = await loadCheckpoint(int8Dir, cpuBackend);
    await quantizeDynamic(float.model);
    const want = new Map(float.model.namedQuantized());
    const got = new Map(int8.model.namedQuantized());
    expect([...got.keys()]).toEqual([...want.keys()]);
    for (const [name, q] of got) {
      expect(Array.from(q.values), name).toEqual(Array.from(want.get(name)!.values));
      expect(Array.from(q.scales), name).toEqual(Array.from(want.get(name)!.scales));
    }
    const again = join(root, 'int8-again');
    await saveCheckpoint(again, int8.config, int8.model, int8.vocabulary);
    expect(readFileSync(join(again, 'model.safetensors')).equals(readFileSync(join(int8Dir, 'model.safetensors')))).toBe(true);
    float.model.dispose();
    int8.model.dispose();
  });

  it('tags the sample test split almost exactly as the float model (>= 98% of tags equal, F1 within 0.02)', async () => {
    const { sentences } = await loadSentences(sampleCorpus.test, 'conll', 'BIO');
    const run = async (dir: string) => {
      const loaded = await loadCheckpoint(dir, cpuBackend);
      const result = await evaluate(loaded.model, loaded.encoder, loaded.config.labels, sentences, cpuBackend, 'BIO');
      loaded.model.dispose();
      return result;
    };
    const float = await run(floatDir);
    const int8 = await run(int8Dir);
    const tags = float.predicted.flat();
    const same = int8.predicted.flat().filter((t, i) => t === tags[i]).length;
    expect(same / tags.length).toBeGreaterThanOrEqual(0.98);
    expect(float.scores.micro.f1).toBeGreaterThan(0.2); // the model learned something: agreement is not all-O
    expect(Math.abs(int8.scores.micro.f1 - float.scores.micro.f1)).toBeLessThan(0.02);
  });

  it('the CLI: predict and eval load it; train (--pretrained, --resume) and export refuse it in one line', () => {
    const evaluation = cli(['eval', '--model', int8Dir, '--data', sampleCorpus.test, '--json']);
    expect(evaluation.status, evaluation.stderr).toBe(0);
    expect(JSON.parse(evaluation.stdout).micro.f1).toBeGreaterThan(0.2);
    const input = join(root, 'input.txt');
    writeFileSync(input, 'Cisplatin-induced nephrotoxicity was seen in two patients.\n');
    const predicted = cli(['predict', '--model', int8Dir, input]);
    expect(predicted.status, predicted.stderr).toBe(0);
    const refused = cli(['train', '--model', 'bert-crf', '--pretrained', int8Dir, '--train', sampleCorpus.dev, '--out', join(root, 'never')]);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr.trim().split('\n')).toEqual([`medner: ${join(int8Dir, 'config.json')}: an int8 checkpoint (medner quantize) is for predict and eval only, not training (--pretrained); use the float checkpoint it was made from`]);
    expect(existsSync(join(root, 'never'))).toBe(false);
    const resumed = cli(['train', '--train', sampleCorpus.dev, '--resume', int8Dir]);
    expect(resumed.status).not.toBe(0);
    expect(resumed.stderr).toContain('is for predict and eval only, not training (--resume)');
    const quantized = cli(['quantize', '--model', int8Dir, '--out', join(root, 'twice')]);
    expect(quantized.status).not.toBe(0);
    expect(quantized.stderr).toContain('already an int8 checkpoint');
    expect(existsSync(join(root, 'twice'))).toBe(false);
  });

  it('refuses the same directory as --out, and export of an int8 checkpoint', async () => {
    await expect(quantizeCheckpoint(floatDir, floatDir, cpuBackend)).rejects.toThrow('--out must differ from --model');
    await expect(exportHf(int8Dir, join(root, 'hf'), cpuBackend)).rejects.toThrow(/a bilstm-crf has no Hugging Face architecture|int8 checkpoint/);
  });
});

describe('damaged int8 checkpoints fail naming the file', () => {
  const damaged = (name: string, edit: (config: Record<string, unknown>) => void) => {
    const dir = join(root, name);
    cpSync(int8Dir, dir, { recursive: true });
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    edit(config);
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    return dir;
  };

  it('an I8 tensor config.json does not list', async () => {
    const dir = damaged('unlisted', (c) => ((c.quantization as { parameters: string[] }).parameters.pop()));
    await expect(loadCheckpoint(dir, cpuBackend)).rejects.toThrow(`${join(dir, 'model.safetensors')}: tensor 'classifier.weight' has dtype I8; weights are F32, F16, BF16 or F64 (I8 only for the int8 weights`);
  });

  it('a listed weight that is F32 in the file, or not a weight of the model', async () => {
    const f32 = damaged('listed-f32', (c) => (c.quantization as { parameters: string[] }).parameters.push('crf.transitions'));
    await expect(loadCheckpoint(f32, cpuBackend)).rejects.toThrow("tensor 'crf.transitions' has dtype F32; config.json lists it as an int8 weight (I8)");
    const bad = damaged('bad-info', (c) => (c.quantization = { method: 'gptq' }));
    await expect(loadCheckpoint(bad, cpuBackend)).rejects.toThrow(`${join(bad, 'config.json')}: "quantization" must be {"method": "dynamic-int8"`);
  });

  it('a negative scale', async () => {
    const dir = join(root, 'negative-scale');
    cpSync(int8Dir, dir, { recursive: true });
    const path = join(dir, 'model.safetensors');
    const bytes = readFileSync(path);
    const reader = SafetensorsReader.open(path);
    const entry = reader.entry('classifier.weight_scale');
    const at = reader.header.dataOffset + entry.begin;
    reader.close();
    bytes.writeFloatLE(-1, at + 4);
    writeFileSync(path, bytes);
    await expect(loadCheckpoint(dir, cpuBackend)).rejects.toThrow(`${path}: tensor 'classifier.weight_scale': scale -1 of output channel 1 is not a finite non-negative number`);
  });
});

describe('a BERT-BiLSTM-CRF quantizes every encoder Linear', () => {
  it('quantizes query/key/value/dense/intermediate/output, the BiLSTM and the classifier, and tags close to the float model', async () => {
    const config = resolveConfig({ model: 'bert-bilstm-crf', epochs: 1, batchSize: 16, bertLayers: 1, bertHidden: 32, bertHeads: 2, bertIntermediate: 64, lstmHidden: 16, lr: 1e-3, dropout: 0.1 }, 'test');
    const out = join(root, 'bert-run');
    await train({ config, train: sampleCorpus.dev, out, backend: cpuBackend, ...quiet });
    const int8 = join(root, 'bert-int8');
    const result = await quantizeCheckpoint(out, int8, cpuBackend);
    expect(result.parameters).toEqual(expect.arrayContaining(['bert.encoder.layer.0.attention.self.query.weight', 'bert.encoder.layer.0.intermediate.dense.weight', 'bert.encoder.layer.0.output.dense.weight', 'lstm.weight_hh_l0_reverse', 'classifier.weight']));
    expect(result.parameters.some((n) => n.includes('embeddings') || n.includes('LayerNorm'))).toBe(false);
    const { sentences } = await loadSentences(sampleCorpus.test, 'conll', 'BIO');
    const tags = async (dir: string) => {
      const loaded = await loadCheckpoint(dir, cpuBackend);
      const { predicted } = await evaluate(loaded.model, loaded.encoder, loaded.config.labels, sentences.slice(0, 100), cpuBackend, 'BIO');
      loaded.model.dispose();
      return predicted.flat();
    };
    const float = await tags(out);
    const quantized = await tags(int8);
    expect(quantized.filter((t, i) => t === float[i]).length / float.length).toBeGreaterThanOrEqual(0.95);
  }, 600_000);
});
