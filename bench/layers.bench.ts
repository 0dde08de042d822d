// Layer forward and forward+backward ms, CPU and WebGPU, at batch 16 x 64 tokens:
//   BERT layer   post-LN encoder layer (src/nn/bert.ts BertLayer), hidden 128 (2 heads) and
//                256 (4 heads), FFN 4x hidden, dropout 0.1 in training mode, no padding
//   BiLSTM       src/nn/lstm.ts: 128 -> 64 per direction (the head on BERT) and
//                130 -> 100 per direction (BiLSTM-CRF: word 100 + char-CNN 30)
//   CRF          NLL (forward algorithm + gold score) over 5 tags, full-length sentences
// A step: forward, loss = sum(y * r) for a fixed random r (so no gradient is trivially
// zero), backward to every parameter and to the input, one readback (the loss) so GPU work
// is inside the time. Median of the timed steps after one warm-up; best beside it.
// Timed by hand rather than with benny: a step is milliseconds to seconds.
//
// Usage: npx tsx bench/layers.bench.ts [--backends cpu,webgpu] [--quick]
//          [--out bench-results/layers.json]
// MEDNER_THREADS=1 keeps the CPU matmul on one core.

import { randn, type Tensor } from '../src/tensor/tensor.js';
import { tidy } from '../src/tensor/scope.js';
import { manualSeed } from '../src/tensor/random.js';
import { noGrad } from '../src/autograd/grad-mode.js';
import { mul, sum } from '../src/ops/index.js';
import { parameter, type Module } from '../src/nn/module.js';
import { BertLayer } from '../src/nn/bert.js';
import { encoderConfig } from '../src/nn/encoder-config.js';
import { BiLSTM } from '../src/nn/lstm.js';
import { CRF } from '../src/crf/crf.js';
import { machine, printTable, writeJson, type Row } from './lib/report.js';
import { flag, openBackend, option, round, timeSteps, versions } from './lib/harness.js';

const BATCH = 16;
const TOKENS = 64;
const quick = flag('--quick');
const backends = option('--backends', 'cpu,webgpu').split(',');
const outPath = option('--out', 'bench-results/layers.json');

/** A layer under test: its module, an input that takes a gradient, and its forward. */
interface Case {
  name: string;
  module: Module;
  input: Tensor;
  forward(): Tensor;
}

function cases(): Case[] {
  const list: Case[] = [];
  for (const [hidden, heads] of quick ? [[128, 2]] : [[128, 2], [256, 4]]) {
    const config = encoderConfig({ hiddenSize: hidden, numHeads: heads, intermediateSize: 4 * hidden, numLayers: 1, vocabSize: 100, hiddenDropout: 0.1, attentionDropout: 0.1 });
    const layer = new BertLayer(config);
    const x = parameter(randn([BATCH, TOKENS, hidden]));
    list.push({ name: `BERT layer H${hidden} (${heads} heads, FFN ${4 * hidden})`, module: layer, input: x, forward: () => layer.forward(x, null) });
  }
  const lengths = new Array<number>(BATCH).fill(TOKENS);
  for (const [input, hidden] of quick ? [[128, 64]] : [[128, 64], [130, 100]]) {
    const lstm = new BiLSTM(input, hidden);
    const x = parameter(randn([BATCH, TOKENS, input]));
    list.push({ name: `BiLSTM ${input} -> ${hidden}/dir`, module: lstm, input: x, forward: () => lstm.forward(x, lengths) });
  }
  const tags = 5;
  const crf = new CRF(tags);
  const emissions = parameter(randn([BATCH, TOKENS, tags]));
  const gold = Array.from({ length: BATCH }, (_, b) => Int32Array.from({ length: TOKENS }, (_, t) => (b + t) % tags));
  const mask = Array.from({ length: BATCH }, () => new Float32Array(TOKENS).fill(1));
  list.push({ name: `CRF NLL (${tags} tags)`, module: crf, input: emissions, forward: () => crf.nll(emissions, gold, mask) });
  return list;
}

const rows: Row[] = [];
const adapters: Record<string, object | null> = {};
for (const backendName of backends) {
  const opened = await openBackend(backendName);
  adapters[backendName] = opened.adapterInfo;
  manualSeed(0);
  for (const c of cases()) {
    c.module.train();
    const r = tidy(() => randn(c.forward().shape));
    const budgetMs = quick ? 500 : backendName === 'cpu' ? 4000 : 8000;
    const trainStep = async () => {
      const loss = tidy(() => {
        const l = sum(mul(c.forward(), r));
        l.backward();
        return l;
      });
      await loss.data();
      loss.dispose();
      c.module.zeroGrad();
      c.input.zeroGrad();
    };
    const forwardStep = async () => {
      const y = noGrad(() => tidy(() => sum(c.forward())));
      await y.data();
      y.dispose();
    };
    const before = opened.counters();
    const train = await timeSteps(trainStep, { minRuns: 3, budgetMs });
    const dispatches = (opened.counters().dispatches - before.dispatches) / (train.runs + 1);
    c.module.eval();
    const infer = await timeSteps(forwardStep, { minRuns: 3, budgetMs: budgetMs / 2 });
    const row: Row = { name: c.name, backend: backendName, 'fwd ms': round(infer.ms), 'fwd+bwd ms': round(train.ms), 'fwd+bwd best': round(train.best), runs: train.runs };
    if (backendName !== 'cpu') row['dispatches/step'] = Math.round(dispatches);
    console.log(`${c.name} on ${backendName}: forward ${infer.ms.toFixed(1)} ms, forward+backward ${train.ms.toFixed(1)} ms`);
    rows.push(row);
    r.dispose();
    c.module.dispose();
    c.input.dispose();
  }
}

printTable(`Layers, batch ${BATCH} x ${TOKENS} tokens: forward (no grad) and forward+backward ms (median)`, rows);
writeJson(outPath, { benchmark: 'layers', batch: BATCH, tokens: TOKENS, machine: machine(), versions: versions(), adapters, threads: process.env.MEDNER_THREADS ?? 'default', date: new Date().toISOString(), results: rows });
process.exit(0);
