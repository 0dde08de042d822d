// Example 4 — a BiLSTM-CRF disease tagger trained on a slice of NCBI-disease.
// The library's training pipeline (src/train/trainer.ts) does the work: word and
// character vocabularies, AdamW with warmup, dev F1 after each epoch, the best
// checkpoint kept. We stop it after a time budget, reload the best checkpoint and
// tag a sentence of raw text: entities with character offsets and confidences
// (the CRF marginal of each predicted tag, averaged over the entity's words).
// Run: npx tsx examples/04-bilstm-crf-ncbi.ts [--seconds 60] [--sentences 564] [--tiny]

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cpuBackend } from '../src/index.js';
import { parseConll, formatConll } from '../src/data/conll.js';
import { resolveConfig, defaultsFor } from '../src/train/config.js';
import { train } from '../src/train/trainer.js';
import { loadCheckpoint } from '../src/train/checkpoint.js';
import { tagSentences } from '../src/train/evaluate.js';
import { splitSentences, tokenizeWords } from '../src/text/segment.js';
import { tagsToSpans } from '../src/data/schemes.js';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' }, // training stops at the first epoch end past this
    sentences: { type: 'string' }, // how many sentences of the slice to use (default: all)
    tiny: { type: 'boolean', default: false }, // a few seconds: 80 sentences, one epoch, a small model (tests)
  },
});

// The committed slice: the first 564 sentences of NCBI-disease train (examples/data/README.md).
const CORPUS = new URL('./data/ncbi-disease-slice.tsv', import.meta.url);
const all = parseConll(readFileSync(CORPUS, 'utf8'), {}, 'ncbi-disease-slice.tsv');
const count = Math.min(all.length, Number(args.sentences ?? (args.tiny ? 80 : all.length)));
// Hold out the last sixth as a dev set: the trainer scores it after every epoch and keeps the best.
const cut = Math.round(count * (5 / 6));
const work = mkdtempSync(join(tmpdir(), 'medner-example-04-'));
writeFileSync(join(work, 'train.tsv'), formatConll(all.slice(0, cut)));
writeFileSync(join(work, 'dev.tsv'), formatConll(all.slice(cut, count)));
console.log(`NCBI-disease slice: ${cut} training sentences, ${count - cut} dev sentences`);

// Every setting has a documented default (src/train/config.ts); we only shrink the model
// so that an epoch takes seconds on a laptop CPU.
const config = resolveConfig(
  args.tiny
    ? { epochs: 1, batchSize: 16, wordDim: 16, charDim: 8, charFilters: 8, lstmHidden: 16 }
    : { epochs: 40, batchSize: 16, wordDim: 64, charDim: 16, charFilters: 32, lstmHidden: 64, patience: 6, warmup: 0.02 },
  'example 04',
  defaultsFor('bilstm-crf'),
);
const budgetSeconds = Number(args.seconds);
const started = performance.now();
const result = await train({
  config,
  train: join(work, 'train.tsv'),
  dev: join(work, 'dev.tsv'),
  out: join(work, 'run'),
  backend: cpuBackend,
  progress: false,
  log: (line) => console.log(`  ${line}`),
  // The trainer asks after each epoch whether to go on: stop once the time budget is spent.
  onEpochEnd: () => ((performance.now() - started) / 1000 > budgetSeconds ? 'stop' : undefined),
});
console.log(`best dev F1 ${result.bestDevF1?.toFixed(4)} at epoch ${result.bestEpoch}, ${((performance.now() - started) / 1000).toFixed(1)} s`);

// Reload the best checkpoint as `medner predict` does and tag raw text. The text is split into
// sentences and words that keep their character offsets; the model tags the words; BIO tags
// become word spans (tagsToSpans), and word spans become character spans of the text.
const loaded = await loadCheckpoint(join(work, 'run'), cpuBackend);
const text = 'Mutations in the APC gene cause familial adenomatous polyposis. Carriers of BRCA1 mutations have a high risk of breast cancer and ovarian cancer.';
const sentences = splitSentences(text).map((sentence) => tokenizeWords(text, sentence.start, sentence.end));
const { tags, confidences } = await tagSentences(
  loaded.model,
  loaded.encoder,
  loaded.config.labels,
  sentences.map((words) => ({ tokens: words.map((w) => w.text), tags: words.map(() => 'O') })),
  cpuBackend,
  { confidences: true },
);
console.log(`\n${text}\n`);
console.log('start  end  confidence  type     text');
let found = 0;
sentences.forEach((words, i) => {
  for (const span of tagsToSpans(tags[i]!, 'BIO')) {
    const start = words[span.start]!.start;
    const end = words[span.end - 1]!.end;
    // Confidence: the CRF marginal P(predicted tag | sentence), averaged over the entity's words.
    const perWord = confidences![i]!.slice(span.start, span.end);
    const confidence = perWord.reduce((a, b) => a + b, 0) / perWord.length;
    console.log(`${String(start).padStart(5)} ${String(end).padStart(4)}  ${confidence.toFixed(4).padStart(10)}  ${span.type.padEnd(8)} ${text.slice(start, end)}`);
    found++;
  }
});
console.log(`${found} entities`);
loaded.model.dispose();
rmSync(work, { recursive: true, force: true });
