// Issue 7, item 3 (round trip): a BERT-BiLSTM-CRF started from a tiny pretrained checkpoint
// trains a few steps, is saved with saveCheckpoint and reloaded with loadCheckpoint: the same
// architecture comes back, with the same weights bit for bit and the same predictions.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { cpuBackend, manualSeed, setBackend, tidy } from '../../src/index.js';
import { parseConll } from '../../src/data/conll.js';
import { readHfConfig } from '../../src/io/hf-config.js';
import { AdamW } from '../../src/optim/adamw.js';
import { resolveConfig } from '../../src/train/config.js';
import { chunkSentences } from '../../src/train/encode.js';
import { createModel, type ModelVocabulary } from '../../src/train/model-factory.js';
import { CHECKPOINT_FORMAT, CHECKPOINT_VERSION, loadCheckpoint, saveCheckpoint } from '../../src/train/checkpoint.js';
import { loadPretrainedEncoder, loadPretrainedTokenizer } from '../../src/train/pretrained.js';
import { buildLabelList } from '../../src/train/vocab.js';
import { fixtureDir, scratchDir } from './helpers.js';

setBackend(cpuBackend);
const scratch = scratchDir();
afterAll(() => scratch.cleanup());

const sentences = parseConll(readFileSync(fileURLToPath(new URL('../fixtures/data/ncbi-disease/sample.iob.tsv', import.meta.url)), 'utf8')).slice(0, 6);

describe.each(['bert', 'albert', 'gpt_neo'] as const)('round trip of a BERT-BiLSTM-CRF fine-tuned from the %s checkpoint', (arch) => {
  it('saveCheckpoint then loadCheckpoint: same architecture, same weights, identical predictions', async () => {
    manualSeed(7);
    const dir = fixtureDir(arch);
    const hf = readHfConfig(dir);
    const config = resolveConfig({ model: 'bert-bilstm-crf', lstmHidden: 8, dropout: 0.1, constraints: 'decode' }, 'test');
    const vocabulary: ModelVocabulary = { kind: 'subwords', tokenizer: await loadPretrainedTokenizer(dir) };
    const labels = buildLabelList(sentences);
    const labelIndex = new Map(labels.map((l, i) => [l, i]));
    const { model, encoder } = createModel(config, vocabulary, labels, hf);
    expect(loadPretrainedEncoder(model, dir, cpuBackend)).toMatch(new RegExp(`^pretrained ${arch}: loaded`));
    // Long sentences are windowed to the tiny position table (32), as training does. A window may
    // start inside an entity (I- first), which 'train+decode' constraints reject: constrain decoding only.
    const chunks = chunkSentences(sentences, encoder);
    expect(chunks.length).toBeGreaterThan(sentences.length);

    const named = model.namedParameters();
    const optimizer = new AdamW(
      [
        { name: 'encoder', params: named.filter(([n]) => n.startsWith('bert.')), lr: 1e-3 },
        { name: 'head', params: named.filter(([n]) => !n.startsWith('bert.')), lr: 1e-2 },
      ],
      { lr: 1e-2, weightDecay: 0.01 },
    );
    const losses: number[] = [];
    for (let step = 0; step < 4; step++) {
      losses.push(
        tidy(() => {
          const loss = model.loss(encoder.encode(chunks, labelIndex, cpuBackend).batch);
          loss.backward();
          return loss.dataSync()[0]!;
        }),
      );
      tidy(() => {
        optimizer.step();
        return null;
      });
      optimizer.zeroGrad();
    }
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses.at(-1)!).toBeLessThan(losses[0]!);

    model.eval();
    const { batch } = encoder.encode(chunks, null, cpuBackend);
    const before = await model.predict(batch);
    const out = `${scratch.dir}/${arch}`;
    await saveCheckpoint(out, { format: CHECKPOINT_FORMAT, version: CHECKPOINT_VERSION, model: config.model, labels, scheme: config.scheme, train: config, encoder: hf, vocabulary: 'subwords', metrics: {}, data: {} }, model, vocabulary);

    const loaded = await loadCheckpoint(out, cpuBackend);
    expect((loaded.model as unknown as { bert: { modelType: string } }).bert.modelType).toBe(arch);
    const reloaded = new Map(loaded.model.namedParameters());
    for (const [name, t] of named) expect(Array.from(reloaded.get(name)!.dataSync()), name).toEqual(Array.from(t.dataSync()));
    loaded.model.eval();
    const again = loaded.encoder.encode(chunks, null, cpuBackend).batch;
    expect(Array.from(again.subwordIds!.dataSync())).toEqual(Array.from(batch.subwordIds!.dataSync()));
    expect(await loaded.model.predict(again)).toEqual(before);
    const emissions = tidy(() => [model.emissions(batch).emissions.dataSync(), loaded.model.emissions(again).emissions.dataSync()]);
    expect(Array.from(emissions[1]!)).toEqual(Array.from(emissions[0]!));
    model.dispose();
    loaded.model.dispose();
    optimizer.dispose?.();
  }, 30_000);
});
