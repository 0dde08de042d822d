// Compare two trained taggers on one annotated test set: both predict every sentence, each
// sentence's entity counts are kept, and the paired approximate-randomization test and the
// paired bootstrap say whether the F1 difference is more than chance. A run may also be a
// `medner train --seeds` directory: seed runs are paired in order (A's first seed with B's
// first, ...) and every (seed, sentence) pair is one unit of the tests.

import type { Backend } from '../backend/backend.js';
import type { Sentence } from '../data/types.js';
import { loadCheckpoint } from '../train/checkpoint.js';
import { tagSentences } from '../train/evaluate.js';
import { approximateRandomization, microF1, pairedBootstrap, sentenceCounts, type BootstrapResult, type RandomizationResult, type SentenceCounts } from './significance.js';
import { readSeedRuns } from './seeds.js';

export interface Comparison {
  a: { run: string; f1: number; models: string[] };
  b: { run: string; f1: number; models: string[] };
  sentences: number;
  units: number;
  difference: number;
  randomization: RandomizationResult;
  bootstrap: BootstrapResult;
}

/** The checkpoint directories behind a run: its seed runs, or the run itself. */
export async function runModels(run: string): Promise<string[]> {
  const seeds = await readSeedRuns(run);
  return seeds ? seeds.map((s) => s.dir) : [run];
}

/** Per-sentence counts of one model directory on the sentences. */
export async function modelCounts(dir: string, sentences: readonly Sentence[], backend: Backend, strict: boolean): Promise<SentenceCounts[]> {
  const { config, model, encoder } = await loadCheckpoint(dir, backend);
  try {
    const { tags } = await tagSentences(model, encoder, config.labels, sentences, backend);
    const scheme = config.scheme;
    return sentenceCounts(sentences.map((s) => s.tags), tags, strict ? { mode: 'strict', scheme } : { mode: 'default' });
  } finally {
    model.dispose();
  }
}

export async function compareRuns(runA: string, runB: string, sentences: readonly Sentence[], backend: Backend, options: { samples?: number; seed?: number; strict?: boolean } = {}): Promise<Comparison> {
  const [modelsA, modelsB] = [await runModels(runA), await runModels(runB)];
  if (modelsA.length !== modelsB.length) throw new Error(`compare: ${runA} has ${modelsA.length} seed runs and ${runB} has ${modelsB.length}; paired seeds need the same number`);
  const countsA: SentenceCounts[] = [];
  const countsB: SentenceCounts[] = [];
  for (const dir of modelsA) countsA.push(...(await modelCounts(dir, sentences, backend, options.strict ?? false)));
  for (const dir of modelsB) countsB.push(...(await modelCounts(dir, sentences, backend, options.strict ?? false)));
  const settings = { samples: options.samples ?? 10_000, seed: options.seed ?? 1 };
  return {
    a: { run: runA, f1: microF1(countsA), models: modelsA },
    b: { run: runB, f1: microF1(countsB), models: modelsB },
    sentences: sentences.length,
    units: countsA.length,
    difference: microF1(countsA) - microF1(countsB),
    randomization: approximateRandomization(countsA, countsB, settings),
    bootstrap: pairedBootstrap(countsA, countsB, settings),
  };
}

export function formatComparison(c: Comparison): string {
  const seeds = c.a.models.length > 1 ? ` (${c.a.models.length} paired seed runs, ${c.units} sentence pairs)` : '';
  const p = (v: number) => (v < 1e-4 ? v.toExponential(2) : v.toFixed(4));
  return [
    `A ${c.a.run}: F1 ${c.a.f1.toFixed(4)}`,
    `B ${c.b.run}: F1 ${c.b.f1.toFixed(4)}`,
    `F1 difference A - B: ${c.difference >= 0 ? '+' : ''}${c.difference.toFixed(4)} on ${c.sentences} sentences${seeds}`,
    `paired bootstrap: 95% interval [${c.bootstrap.interval[0].toFixed(4)}, ${c.bootstrap.interval[1].toFixed(4)}], p = ${p(c.bootstrap.pValue)} (${c.bootstrap.samples} resamples)`,
    `approximate randomization: p = ${p(c.randomization.pValue)} (${c.randomization.exact ? `all ${c.randomization.samples} swaps` : `${c.randomization.samples} random swaps`})`,
  ].join('\n');
}
