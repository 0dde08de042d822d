// Example 7 — a CRF experiment, as a researcher would run it. On one corpus and
// one BiLSTM-CRF architecture we compare:
//   decoding: unconstrained Viterbi vs Viterbi with BIO constraints (no O -> I-X,
//             no B-Chemical -> I-Disease), switched on after training;
//   training: full labels vs partial labels, where a fraction of the tokens has its
//             tag hidden and the CRF sums over every tag there (a constrained
//             log-partition as the numerator), vs the naive fix of calling hidden
//             tokens O.
// Each variant is scored with seqeval's default (lenient) and strict entity F1
// (src/metrics), plus the number of predicted tag sequences that are invalid BIO.
// The training loop is written out: encode a batch, emissions, CRF NLL, backward, AdamW.
// Run: npx tsx examples/07-crf-variants.ts [--sentences 400] [--epochs 4] [--hidden 0.5]

import { disposeBatch } from '../src/models/batch.js';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Rng, cpuBackend, manualSeed, optim, tidy, type Tensor } from '../src/index.js';
import { BiLstmCrf } from '../src/models/bilstm-crf.js';
import { parseConll } from '../src/data/conll.js';
import { validateTags } from '../src/data/schemes.js';
import { entityScores } from '../src/metrics/scores.js';
import type { Sentence } from '../src/data/types.js';
import { WordEncoder } from '../src/train/encode.js';
import { buildLabelList, buildWordVocabulary } from '../src/train/vocab.js';

const { values: args } = parseArgs({
  options: {
    sentences: { type: 'string', default: '400' }, // training sentences; dev gets 150 (fewer when tiny)
    epochs: { type: 'string', default: '4' },
    hidden: { type: 'string', default: '0.5' }, // fraction of training tokens whose tag is hidden
  },
});
const trainCount = Number(args.sentences);
const epochs = Number(args.epochs);
const hiddenFraction = Number(args.hidden);

// The bundled BC5CDR slice: two entity types, so a transition can also be wrong across types.
const sample = (split: string) => parseConll(readFileSync(new URL(`../src/data/sample/bc5cdr-${split}.tsv`, import.meta.url), 'utf8'), {}, split);
const trainSet = sample('train').slice(0, trainCount);
const devSet = sample('dev').slice(0, Math.min(150, Math.max(10, trainCount)));
const labels = buildLabelList(trainSet);
const labelIndex = new Map(labels.map((label, i) => [label, i]));
const encoder = new WordEncoder(buildWordVocabulary(trainSet, 1, false), null, false);
console.log(`BC5CDR: ${trainSet.length} training sentences, ${devSet.length} dev sentences; tags ${labels.join(' ')}`);

// Which training tokens lose their tag: the same tokens for both partial-label variants.
const hideRng = new Rng(7);
const hidden = trainSet.map((s) => s.tokens.map(() => hideRng.next() < hiddenFraction));
const hiddenTokens = hidden.flat().filter(Boolean).length;
console.log(`partial labels: ${hiddenTokens} of ${hidden.flat().length} training tags hidden (${(100 * hiddenFraction).toFixed(0)}%)\n`);

type Supervision = 'full' | 'partial' | 'hidden-as-O';

/** Train one BiLSTM-CRF (constraints off, so the CRF must learn the scheme from data). */
async function trainTagger(supervision: Supervision): Promise<BiLstmCrf> {
  manualSeed(1); // the same initial weights for every variant
  const model = new BiLstmCrf({ vocabSize: encoder.words.size, numTags: labels.length, wordDim: 50, hiddenSize: 50, dropout: 0.3 });
  const optimizer = new optim.AdamW(model.namedParameters(), { lr: 1e-2 });
  const shuffleRng = new Rng(2);
  const C = labels.length;
  for (let epoch = 1; epoch <= epochs; epoch++) {
    let lossSum = 0;
    const order = shuffleRng.shuffle(trainSet.map((_, i) => i));
    for (let start = 0; start < order.length; start += 16) {
      const indices = order.slice(start, start + 16);
      // 'hidden-as-O' trains on corrupted tags; the other two see the gold tags (partial masks them below).
      const sentences: Sentence[] = indices.map((i) => ({
        tokens: trainSet[i]!.tokens,
        tags: trainSet[i]!.tags.map((tag, t) => (supervision === 'hidden-as-O' && hidden[i]![t] ? 'O' : tag)),
      }));
      const loss = tidy(() => {
        const { batch, lengths, tags } = encoder.encode(sentences, labelIndex, cpuBackend);
        const T = Math.max(...lengths);
        const mask = lengths.map((n) => Array.from({ length: T }, (_, t) => (t < n ? 1 : 0)));
        const { emissions } = model.emissions(batch);
        // Full labels: one gold path per sentence. Partial labels: allowed tags [B][T][C], every tag
        // allowed on a hidden token, so the NLL is log Z - log(sum over the paths that fit the known tags).
        const target: number[][] | number[][][] =
          supervision === 'partial'
            ? indices.map((i, b) => Array.from({ length: T }, (_, t) => Array.from({ length: C }, (_, j) => (t >= lengths[b]! || hidden[i]![t] || tags![b]![t] === j ? 1 : 0))))
            : tags!.map((row) => Array.from({ length: T }, (_, t) => row[t] ?? 0));
        const l: Tensor = model.crf!.nll(emissions, target, mask);
        l.backward();
        return l;
      });
      optimizer.step();
      optimizer.zeroGrad();
      lossSum += loss.dataSync()[0]! * indices.length;
      loss.dispose();
    }
    console.log(`  ${supervision.padEnd(11)} epoch ${epoch}: loss ${(lossSum / trainSet.length).toFixed(3)}`);
  }
  return model;
}

/** Viterbi on the dev set, with or without the scheme's constraints. */
async function tagDev(model: BiLstmCrf, constrained: boolean): Promise<string[][]> {
  model.eval(); // dropout off
  model.crf!.setConstraints!(constrained ? { mode: 'decode', labels, scheme: 'BIO' } : null);
  const predicted: string[][] = [];
  for (let start = 0; start < devSet.length; start += 64) {
    const chunk = devSet.slice(start, start + 64);
    const { batch, lengths } = encoder.encode(chunk, null, cpuBackend);
    const T = Math.max(...lengths);
    const emissions = tidy(() => model.emissions(batch).emissions);
    const { paths } = await model.crf!.decode(emissions, lengths.map((n) => Array.from({ length: T }, (_, t) => (t < n ? 1 : 0))));
    emissions.dispose();
    disposeBatch(batch);
    predicted.push(...paths.map((path) => path.map((id) => labels[id]!)));
  }
  return predicted;
}

const gold = devSet.map((s) => s.tags);
const rows: string[] = [];
for (const supervision of ['full', 'partial', 'hidden-as-O'] as const) {
  const model = await trainTagger(supervision);
  for (const constrained of [false, true]) {
    const predicted = await tagDev(model, constrained);
    const lenient = entityScores(gold, predicted, { mode: 'default' }).micro.f1;
    const strict = entityScores(gold, predicted, { mode: 'strict', scheme: 'BIO' }).micro.f1;
    const invalid = predicted.filter((tags) => validateTags(tags, 'BIO').length > 0).length;
    rows.push(`${supervision.padEnd(12)} ${(constrained ? 'BIO-constrained' : 'unconstrained').padEnd(16)} ${lenient.toFixed(4).padStart(8)} ${strict.toFixed(4).padStart(8)} ${String(invalid).padStart(8)}`);
  }
  model.dispose();
}
console.log(`\ntraining     decoding         F1 (seqeval) F1 strict  invalid sequences (of ${devSet.length})`);
for (const row of rows) console.log(row);
// What to read in the table: constrained decoding can only remove invalid sequences, so its lenient
// and strict scores agree; how much it helps depends on how well training taught the transitions.
// Marginalising over hidden tags keeps most of the full-label F1; calling them O teaches the model
// that many entity words are O.
console.log('\nconstrained decoding never predicts an I-X without its B-X, so its two F1 columns agree');
