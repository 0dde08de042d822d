// Issue 7, item 4: `medner train --pretrained <dir>` fine-tunes from a Hugging Face directory of
// any of the four architectures, with the checkpoint's tokenizer and weights, and the encoder and
// head learning rates apply separately: with one of them 0, that part stays exactly as it began.

import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cpuBackend, type Tensor } from '../../src/index.js';
import { loadSafetensors } from '../../src/io/safetensors.js';
import { readHfConfig } from '../../src/io/hf-config.js';
import { BertBiLstmCrf } from '../../src/models/bert-tagger.js';
import { resolveConfig } from '../../src/train/config.js';
import { train } from '../../src/train/trainer.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { loadPretrainedEncoder } from '../../src/train/pretrained.js';
import { ARCHITECTURES, fixtureDir, scratchDir, smallConll } from './helpers.js';

const scratch = scratchDir();
afterAll(() => scratch.cleanup());
const corpus = smallConll(scratch.dir, 8);

// Windows of the tiny position table (32 subwords) can start inside an entity; constrain decoding only.
const tiny = (extra: Record<string, unknown> = {}) =>
  resolveConfig({ model: 'bert-bilstm-crf', epochs: 1, batchSize: 8, lstmHidden: 8, dropout: 0.1, constraints: 'decode', warmup: 0, schedule: 'constant', ...extra }, 'test');

function savedWeights(out: string): Map<string, Tensor> {
  return loadSafetensors(join(out, 'best', 'model.safetensors'), { backend: cpuBackend });
}

const same = (a: Tensor, b: Tensor) => a.dataSync().every((v, i) => v === b.dataSync()[i]);

describe('fine-tuning from a pretrained directory', () => {
  it.each(ARCHITECTURES)('%s: train() loads its tokenizer and weights, trains, and the saved model reloads with that architecture', async (arch) => {
    const out = join(scratch.dir, `run-${arch}`);
    const lines: string[] = [];
    const result = await train({ config: tiny({ encoderLr: 1e-3, lr: 1e-2 }), train: corpus, dev: corpus, out, backend: cpuBackend, pretrained: fixtureDir(arch), log: (l) => lines.push(l), progress: false });
    expect(result.history).toHaveLength(1);
    expect(Number.isFinite(result.history[0]!.trainLoss)).toBe(true);
    expect(lines.join('\n')).toMatch(new RegExp(`pretrained ${arch}: loaded \\d+ encoder tensors from .*; ignored \\d+ checkpoint tensors not used for token classification`));
    const loaded = await loadCheckpoint(out, cpuBackend);
    expect((loaded.model as unknown as BertBiLstmCrf).bert.modelType).toBe(arch);
    expect(loaded.config.encoder?.modelType).toBe(arch);
    expect(loaded.encoder.kind).toBe('subwords');
    loaded.model.dispose();
  });

  it('the encoder and head learning rates are separate: a zero rate leaves its part untouched', async () => {
    const dir = fixtureDir('bert');
    // The encoder exactly as the checkpoint gives it.
    const pretrained = new BertBiLstmCrf({ encoder: readHfConfig(dir), numTags: 3, lstmHidden: 8 });
    loadPretrainedEncoder(pretrained, dir, cpuBackend);
    const original = new Map(pretrained.namedParameters().filter(([n]) => n.startsWith('bert.')));

    const frozenEncoder = join(scratch.dir, 'frozen-encoder');
    const frozenHead = join(scratch.dir, 'frozen-head');
    await train({ config: tiny({ encoderLr: 0, lr: 1e-2 }), train: corpus, out: frozenEncoder, backend: cpuBackend, pretrained: dir, log: () => undefined, progress: false });
    await train({ config: tiny({ encoderLr: 1e-3, lr: 0 }), train: corpus, out: frozenHead, backend: cpuBackend, pretrained: dir, log: () => undefined, progress: false });
    const a = savedWeights(frozenEncoder);
    const b = savedWeights(frozenHead);
    // encoderLr 0: every encoder tensor is the checkpoint's, bit for bit; encoderLr > 0 moved them.
    for (const [name, t] of original) expect(same(a.get(name)!, t), name).toBe(true);
    expect([...original].filter(([name, t]) => !same(b.get(name)!, t)).length).toBeGreaterThan(original.size / 2);
    // lr 0: the head is its (seeded, identical) initialisation; lr > 0 trained it.
    const head = [...a.keys()].filter((n) => !n.startsWith('bert.'));
    expect(head.length).toBeGreaterThan(0);
    for (const name of head) expect(same(a.get(name)!, b.get(name)!), name).toBe(false);
    for (const t of [...a.values(), ...b.values()]) t.dispose();
    pretrained.dispose();
  });
});

describe('medner train --pretrained (the CLI, as a child process)', () => {
  const cli = (args: string[]) => spawnSync(process.execPath, ['src/cli/bin.js', 'train', ...args], { encoding: 'utf8' });

  it('fine-tunes a tiny RoBERTa checkpoint with separate encoder and head learning rates', () => {
    const out = join(scratch.dir, 'cli-roberta');
    const run = cli(['--pretrained', fixtureDir('roberta'), '--model', 'bert-crf', '--train', corpus, '--epochs', '1', '--batch-size', '8', '--encoder-lr', '0.0001', '--lr', '0.01', '--constraints', 'decode', '--out', out, '--no-progress']);
    expect(run.stderr).not.toMatch(/medner:/);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/pretrained roberta: loaded \d+ encoder tensors/);
    expect(run.stdout).toMatch(/model: bert-crf, [\d,]+ parameters/);
    rmSync(out, { recursive: true, force: true });
  });

  it('a directory with only pytorch_model.bin fails with the conversion recipe', () => {
    const { dir, cleanup } = scratchDir('distilbert');
    rmSync(join(dir, 'model.safetensors'));
    spawnSync('touch', [join(dir, 'pytorch_model.bin')]);
    const run = cli(['--pretrained', dir, '--model', 'bert-crf', '--train', corpus, '--epochs', '1', '--out', join(dir, 'out'), '--no-progress']);
    cleanup();
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/has pytorch_model\.bin but no model\.safetensors; medner reads only safetensors/);
    expect(run.stderr).toMatch(/from safetensors\.torch import save_file/);
  });
});
