// Example 8 — a CRF-variant study, as a researcher would report it: the linear-chain CRF
// against the semi-Markov CRF on one BiLSTM encoder, over several seeds, with a significance
// test. For each variant `trainSeeds` trains one model per seed (what `medner train --seeds`
// does); `compareRuns` then pairs the variants' seed runs (seed 1 with seed 1, ...) and runs the
// paired approximate-randomization test and the paired bootstrap over the test sentences
// (what `medner compare` does). The output is the table for a paper: mean ± std of test F1
// per variant and per type, and the difference with its 95% interval and p-values.
// Default data: the committed NCBI-disease slice split 60/20/20 (examples/data/README.md).
// Run: npx tsx examples/08-semi-markov-vs-linear.ts [--seeds 1,2,3] [--epochs 4] [--tiny]
//      [--train t.tsv --dev d.tsv --test e.tsv] [--sentences N] [--dev-sentences N] [--test-sentences N]
//      [--word-dim 64] [--hidden 64] [--char-features cnn|none] [--max-segment-length 6] [--out dir]

import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cpuBackend } from '../src/index.js';
import { parseConll, formatConll } from '../src/data/conll.js';
import { defaultsFor, resolveConfig } from '../src/train/config.js';
import { loadSentences } from '../src/train/corpus.js';
import { formatSeedSummary, parseSeeds, trainSeeds, type SeedSummary } from '../src/research/seeds.js';
import { compareRuns } from '../src/research/compare.js';

const { values: args } = parseArgs({
  options: {
    seeds: { type: 'string', default: '1,2,3' },
    epochs: { type: 'string', default: '4' },
    train: { type: 'string' },
    dev: { type: 'string' },
    test: { type: 'string' },
    sentences: { type: 'string' }, // use the first N training sentences (sizing a run to a machine)
    'dev-sentences': { type: 'string' }, // ... and the first N dev and test sentences
    'test-sentences': { type: 'string' },
    'char-features': { type: 'string', default: 'cnn' }, // cnn or none
    'max-segment-length': { type: 'string', default: '6' },
    'word-dim': { type: 'string', default: '64' },
    hidden: { type: 'string', default: '64' },
    samples: { type: 'string', default: '10000' },
    out: { type: 'string' },
    tiny: { type: 'boolean', default: false }, // CI size: 2 seeds, a small model, 60 sentences
  },
});

const work = args.out ?? mkdtempSync(join(tmpdir(), 'medner-example8-'));
mkdirSync(work, { recursive: true });
let [trainPath, devPath, testPath] = [args.train, args.dev, args.test];
if (!trainPath || !devPath || !testPath) {
  const all = parseConll(readFileSync(new URL('./data/ncbi-disease-slice.tsv', import.meta.url), 'utf8'), {}, 'ncbi-disease-slice.tsv');
  const n = args.tiny ? 90 : all.length;
  const [a, b] = [Math.floor(n * 0.6), Math.floor(n * 0.8)];
  [trainPath, devPath, testPath] = ['train', 'dev', 'test'].map((s) => join(work, `${s}.tsv`)) as [string, string, string];
  writeFileSync(trainPath, formatConll(all.slice(0, a)));
  writeFileSync(devPath, formatConll(all.slice(a, b)));
  writeFileSync(testPath, formatConll(all.slice(b, n)));
  console.log(`NCBI-disease slice: ${a} train, ${b - a} dev, ${n - b} test sentences`);
}
/** The first n sentences of a corpus, written to the work directory. */
function firstSentences(path: string, n: string | undefined, name: string): string {
  if (!n) return path;
  const sentences = parseConll(readFileSync(path, 'utf8'), {}, path).slice(0, Number(n));
  const subset = join(work, `${name}-subset.tsv`);
  writeFileSync(subset, formatConll(sentences));
  console.log(`${name}: the first ${sentences.length} sentences of ${path}`);
  return subset;
}
trainPath = firstSentences(trainPath, args.sentences, 'train');
devPath = firstSentences(devPath, args['dev-sentences'], 'dev');
testPath = firstSentences(testPath, args['test-sentences'], 'test');

const seeds = parseSeeds(args.tiny ? '1,2' : args.seeds, undefined, 1);
const size = args.tiny
  ? { epochs: 6, wordDim: 16, charDim: 8, charFilters: 8, lstmHidden: 16, batchSize: 4, lr: 0.05, warmup: 0, dropout: 0.1, patience: 40 }
  : { epochs: Number(args.epochs), wordDim: Number(args['word-dim']), lstmHidden: Number(args.hidden), charFeatures: args['char-features'] };
const quiet = { log: () => {}, progress: false, backend: cpuBackend, train: trainPath, dev: devPath, test: testPath };

const summaries: Record<string, SeedSummary> = {};
for (const variant of ['linear', 'semi-markov'] as const) {
  const config = resolveConfig({ ...size, crf: variant, maxSegmentLength: Number(args['max-segment-length']) }, 'example 8', defaultsFor('bilstm-crf'));
  const started = performance.now();
  summaries[variant] = await trainSeeds({ ...quiet, config, out: join(work, variant) }, seeds);
  console.log(`\n${variant} CRF, ${seeds.length} seeds (${((performance.now() - started) / 60000).toFixed(1)} min):\n${formatSeedSummary(summaries[variant]!)}`);
}

const test = await loadSentences(testPath, 'conll', 'BIO');
const c = await compareRuns(join(work, 'semi-markov'), join(work, 'linear'), test.sentences, cpuBackend, { samples: Number(args.samples) });
const pm = (s: { mean: number; std: number }) => `${s.mean.toFixed(4)} ± ${s.std.toFixed(4)}`;
const p = (v: number) => (v < 1e-4 ? v.toExponential(1) : v.toFixed(4));
console.log(`\nvariant       test F1 (mean ± std, ${seeds.length} seeds)`);
for (const [variant, s] of Object.entries(summaries)) console.log(`${variant.padEnd(13)} ${pm(s.micro)}`);
console.log(`semi-markov - linear: ${c.difference >= 0 ? '+' : ''}${c.difference.toFixed(4)} (pooled over ${c.units} sentence x seed pairs), 95% interval [${c.bootstrap.interval[0].toFixed(4)}, ${c.bootstrap.interval[1].toFixed(4)}], p = ${p(c.randomization.pValue)} (approximate randomization), p = ${p(c.bootstrap.pValue)} (bootstrap)`);
writeFileSync(join(work, 'study.json'), JSON.stringify({ seeds, size, data: { train: trainPath, dev: devPath, test: testPath }, summaries, comparison: { difference: c.difference, interval: c.bootstrap.interval, pRandomization: c.randomization.pValue, pBootstrap: c.bootstrap.pValue, pairs: c.units } }, null, 2) + '\n');
console.log(`runs and study.json in ${work}`);
