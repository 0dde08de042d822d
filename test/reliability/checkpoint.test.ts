// The checkpoint loader and the vocabularies on hostile input: a random corruption of config.json (absurd
// sizes, wrong types, deleted fields), of words.txt / chars.txt (line corruptions, invalid UTF-8), or of
// model.safetensors (wrong dtypes, missing tensors, other shapes) either loads a working model or is refused
// with a one-line error naming a file of the checkpoint, before memory is spent on what the files describe.

import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { cpuBackend } from '../../src/backend/registry.js';
import { predictText } from '../../src/cli/predict.js';
import { SafetensorsReader, saveSafetensors } from '../../src/io/safetensors.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { resolveConfig } from '../../src/train/config.js';
import { train } from '../../src/train/trainer.js';
import { Vocabulary } from '../../src/train/vocab.js';
import { char, corrupt, corruption } from './corrupt.js';

let reference = '';
let copies = 0;
beforeAll(async () => {
  const out = mkdtempSync(join(tmpdir(), 'medner-ckpt-'));
  const config = resolveConfig({ epochs: 1, batchSize: 8, wordDim: 8, charDim: 4, charFilters: 4, lstmHidden: 8 }, 'test');
  await train({ config, train: 'test/fixtures/data/bc5cdr/sample.iob.tsv', out, backend: cpuBackend, log: () => undefined, progress: false });
  reference = join(out, 'best');
}, 120_000);

function copy(): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'medner-ckpt-')), `c${++copies}`);
  cpSync(reference, dir, { recursive: true });
  return dir;
}

/** Load, and tag a sentence with what loaded; or a one-line error naming a file of `dir`, memory untouched. */
async function expectLoadsOrRefuses(dir: string): Promise<void> {
  const before = process.memoryUsage().arrayBuffers;
  let loaded;
  try {
    loaded = await loadCheckpoint(dir, cpuBackend);
  } catch (error) {
    const message = (error as Error).message;
    expect(message.split('\n')).toHaveLength(1);
    expect(message.startsWith(`${dir}/`), message).toBe(true);
    // Refused before allocating what the files describe: at most a few MB came and went.
    expect(process.memoryUsage().arrayBuffers - before, message).toBeLessThan(64 << 20);
    return;
  }
  try {
    expect(Array.isArray(await predictText('Aspirin causes pain .', loaded, cpuBackend))).toBe(true);
  } finally {
    loaded.model.dispose();
  }
}

/** Absurd, wrong-typed or missing values for the size fields a model is built from. */
const absurd = fc.constantFrom<unknown>(1e9, 2 ** 31, 1e7, 65536, -1, 0, 1.5, 'x', null, undefined, [], {});

describe('checkpoint loader', () => {
  it('config.json with absurd sizes, wrong types or deleted fields', async () => {
    const fields = ['wordDim', 'lstmHidden', 'charDim', 'charFilters', 'maxLength', 'dropout', 'model', 'charFeatures', 'scheme'];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...fields), absurd, async (field, value) => {
        const dir = copy();
        const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
        if (value === undefined) delete config.train[field];
        else config.train[field] = value;
        writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
        await expectLoadsOrRefuses(dir);
      }),
      { numRuns: 60 },
    );
  });

  it('a BERT model whose config.json is absurd is refused before it is built', async () => {
    for (const [key, value] of [['hidden_size', 1e6], ['num_hidden_layers', 10_000], ['vocab_size', 1e8], ['intermediate_size', 1e9]] as const) {
      const dir = copy();
      const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
      config.model = config.train.model = 'bert-crf';
      config.vocabulary = 'subwords';
      config.bert = { vocab_size: 30, hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 16, max_position_embeddings: 64, type_vocab_size: 2, [key]: value };
      writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
      writeFileSync(join(dir, 'vocab.txt'), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'a', 'b'].join('\n') + '\n');
      await expectLoadsOrRefuses(dir);
      await expect(loadCheckpoint(dir, cpuBackend)).rejects.toThrow(/config\.json: |vocab\.txt: /);
    }
  });

  it('model.safetensors with wrong dtypes, missing tensors or other shapes', async () => {
    const reader = SafetensorsReader.open(join(reference, 'model.safetensors'));
    const tensors = reader.names().map((name) => [name, { data: reader.readFloat32(name), shape: reader.entry(name).shape }] as const);
    reader.close();
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.constantFrom('drop', 'int', 'half', 'reshape', 'grow'), async (pick, change) => {
        const dir = copy();
        const index = pick % tensors.length;
        const edited = new Map<string, { data: Float32Array | Int32Array; shape: readonly number[] }>();
        tensors.forEach(([name, t], i) => {
          if (i !== index) return edited.set(name, t);
          if (change === 'int') edited.set(name, { data: Int32Array.from(t.data), shape: t.shape });
          else if (change === 'reshape') edited.set(name, { data: t.data, shape: [t.data.length] });
          else if (change === 'grow') edited.set(name, { data: new Float32Array(t.data.length * 2), shape: [2, ...t.shape] });
          else if (change === 'half') edited.set(name, t);
        });
        await saveSafetensors(join(dir, 'model.safetensors'), edited, change === 'half' ? { floatDType: 'F16' } : {});
        await expectLoadsOrRefuses(dir);
      }),
      { numRuns: 40 },
    );
  });
});

describe('vocabularies', () => {
  const token = fc.array(char, { minLength: 1, maxLength: 4 }).map((cs) => cs.join(''));

  it('round-trip random vocabularies (astral characters, CRLF)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(token, { minLength: 1, maxLength: 40 }), fc.boolean(), (tokens, crlf) => {
        const text = new Vocabulary(tokens).toText();
        expect(Vocabulary.fromText(crlf ? text.replace(/\n/g, '\r\n') : text).tokens).toEqual(tokens);
      }),
    );
    expect(() => new Vocabulary(['a', 'b\nc']).toText()).toThrow('line break');
  });

  it('a corrupted words.txt or chars.txt loads or is an error naming the line (or byte)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('words.txt', 'chars.txt'), corruption, async (file, c) => {
        const dir = copy();
        const corrupted = corrupt(readFileSync(join(dir, file), 'utf8'), c, ' ');
        writeFileSync(join(dir, file), corrupted.bytes);
        await expectLoadsOrRefuses(dir);
        if (c.kind === 'duplicateLine') await expect(loadCheckpoint(dir, cpuBackend)).rejects.toThrow(`${join(dir, file)}:${corrupted.lineNumber + 1}: `);
        if (corrupted.badByteOffset !== null) await expect(loadCheckpoint(dir, cpuBackend)).rejects.toThrow(`${join(dir, file)}: invalid UTF-8 at byte offset ${corrupted.badByteOffset}`);
      }),
      { numRuns: 60 },
    );
  });
});
