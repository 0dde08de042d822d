// The strongest check, as llm.c's test_gpt2: the whole BERT-BiLSTM-CRF against PyTorch —
// the step-0 loss, emissions, every parameter's gradient and the Viterbi paths, then the
// loss curve of 10 AdamW steps (src/optim's AdamW vs torch.optim.AdamW, same param groups).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpuBackend, setBackend, tidy } from '../../src/index.js';
import { BertBiLstmCrf, type NerBatch } from '../../src/models/index.js';
import { AdamW } from '../../src/optim/index.js';
import { backends } from '../nn/backends.js';
import { ErrorLog, FORWARD_TOLERANCE, GRADIENT_TOLERANCE, decode, forwardError, gradientError, loadFixture, loadParams, values, type Encoded } from '../nn/reference.js';
import { fromHfConfigJson } from '../../src/io/hf-config.js';

/** A [B, T] fixture as one array per row. */
const rows = (e: Encoded): number[][] => Array.from({ length: e.shape[0]! }, (_, b) => e.data.slice(b * e.shape[1]!, (b + 1) * e.shape[1]!));
/** Prefix lengths of a [B, T] 0/1 mask fixture. */
const prefixLengths = (e: Encoded): number[] => rows(e).map((row) => row.filter((v) => v === 1).length);

describe.each(backends)('BERT-BiLSTM-CRF parity with PyTorch on %s', (name, backend) => {
  const log = new ErrorLog();
  beforeAll(() => setBackend(backend));
  afterAll(() => {
    setBackend(cpuBackend);
    log.print(`BERT-BiLSTM-CRF parity (${name})`);
  });

  const f = loadFixture('bert_bilstm_crf');
  const build = () => {
    const model = new BertBiLstmCrf({ encoder: fromHfConfigJson(f.config.bert, 'bert_bilstm_crf.json', 'bert'), numTags: f.config.numTags, lstmHidden: f.config.lstmHidden, pooling: f.config.pooling });
    loadParams(model, f.params, backend);
    return model;
  };
  const batchOf = (): NerBatch => ({
    subwordIds: decode(f.batch.subwordIds, backend),
    attentionMask: decode(f.batch.attentionMask, backend),
    wordStarts: decode(f.batch.wordStarts, backend),
    wordMask: decode(f.batch.wordMask, backend),
    tags: decode(f.batch.tags, backend),
    // The host copies a batch carries so that nothing is read back (src/models/batch.ts).
    lengths: prefixLengths(f.batch.wordMask),
    subwordLengths: prefixLengths(f.batch.attentionMask),
    hostTags: rows(f.batch.tags),
    hostWordStarts: rows(f.batch.wordStarts),
  });

  it('step 0: loss, emissions, every parameter gradient, Viterbi paths', async () => {
    const model = build();
    const batch = batchOf();
    const { emissions, loss } = tidy(() => {
      const emissions = model.emissions(batch).emissions;
      const loss = model.loss(batch);
      loss.backward();
      return { emissions, loss };
    });
    expect(log.note('emissions forward', forwardError(await values(emissions), f.step0.emissions.data))).toBeLessThanOrEqual(FORWARD_TOLERANCE);
    expect(log.note('loss forward', forwardError(await values(loss), [f.step0.loss]))).toBeLessThanOrEqual(FORWARD_TOLERANCE);
    emissions.dispose();
    loss.dispose();
    const names = model.namedParameters().map(([n]) => n);
    expect(names.sort()).toEqual(Object.keys(f.step0.grads).sort());
    for (const [param, t] of model.namedParameters()) {
      const actual = await values(t.grad!);
      if (param.endsWith('self.key.bias')) {
        // Exactly 0 in theory (see test/nn/parity.test.ts); only rounding on both sides.
        expect(log.note('key-bias |grad| (0 in theory)', Math.max(...Array.from(actual, Math.abs)))).toBeLessThanOrEqual(1e-5);
        continue;
      }
      const error = log.note('gradients (all parameters)', gradientError(actual, f.step0.grads[param].data));
      expect(error, `gradient of ${param}`).toBeLessThanOrEqual(GRADIENT_TOLERANCE);
    }
    model.zeroGrad();
    const paths = await model.predict(batch);
    expect(paths).toEqual(f.step0.viterbi.paths);
    model.dispose();
  });

  it('10 AdamW steps follow torch.optim.AdamW loss curve', async () => {
    const model = build();
    const batch = batchOf();
    const noDecay = new Set<string>(f.adamw.noDecay);
    const optimizer = new AdamW(model.namedParameters(), { lr: f.adamw.lr, betas: f.adamw.betas, eps: f.adamw.eps, weightDecay: f.adamw.weightDecay, noDecay: (n) => noDecay.has(n) });
    const losses: number[] = [];
    for (let step = 0; step <= 10; step++) {
      const loss = tidy(() => {
        optimizer.zeroGrad();
        const l = model.loss(batch);
        if (step < 10) {
          l.backward();
          optimizer.step();
        }
        return l;
      });
      losses.push((await loss.data())[0]!);
      loss.dispose();
    }
    const error = log.note('AdamW loss curve', forwardError(losses, f.adamw.losses));
    expect(error, `losses ${losses.map((l) => l.toFixed(5))} vs torch ${f.adamw.losses.map((l: number) => l.toFixed(5))}`).toBeLessThanOrEqual(FORWARD_TOLERANCE);
    expect(losses[10]!).toBeLessThan(losses[0]! * 0.5);
    model.dispose();
  });
});
