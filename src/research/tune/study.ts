// A hyperparameter search: trials drawn by a sampler, each trained with its settings and
// stopped early by a pruner fed the dev F1 after every epoch. Everything lives in one output
// directory: trials.jsonl (one line per finished trial: settings, per-epoch dev F1, state,
// time), study.json (the search's definition, checked on --resume), best-config.json (the best
// trial's settings as a `medner train --config` file) and report.html. Files are rewritten
// whole through a temporary name, so an interrupted search leaves them consistent; --resume
// reruns the trial that was running and continues.

import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Params, SearchSpace } from './space.js';
import type { FinishedTrial, Sampler } from './samplers.js';
import type { Pruner } from './pruner.js';
import { renderTuneReport } from './report.js';

export interface TrialRecord extends FinishedTrial {
  number: number;
  /** Dev F1 after each epoch the trial ran. */
  values: number[];
  /** Best dev F1 (complete), best so far (pruned), null (failed). */
  value: number | null;
  testF1: number | null;
  bestEpoch: number | null;
  seconds: number;
  error?: string;
}

/** What a trial's training reports back. */
export interface TrialOutcome {
  values: number[];
  pruned: boolean;
  testF1: number | null;
  bestEpoch: number | null;
}

export type Objective = (params: Params, number: number, shouldPrune: (values: readonly number[]) => boolean) => Promise<TrialOutcome>;

export interface StudyOptions {
  space: SearchSpace;
  trials: number;
  sampler: Sampler;
  pruner: Pruner;
  out: string;
  resume?: boolean;
  /** Settings every trial shares (the --config file and flags), written into best-config.json under the best params. */
  base?: Record<string, unknown>;
  /** Anything else the search depends on (data paths, model), stored in study.json and compared on resume. */
  description?: Record<string, unknown>;
  objective: Objective;
  log?: (line: string) => void;
}

export interface StudyResult {
  trials: TrialRecord[];
  best: TrialRecord | null;
  outDir: string;
}

async function writeAtomically(path: string, text: string): Promise<void> {
  await writeFile(`${path}.tmp`, text);
  await rename(`${path}.tmp`, path);
}

export async function readTrials(path: string): Promise<TrialRecord[]> {
  const text = await readFile(path, 'utf8');
  return text.split('\n').flatMap((line, i) => {
    if (!line.trim()) return [];
    try {
      // Written in snake_case (test_f1, best_epoch); older files in camelCase.
      const raw = JSON.parse(line) as Record<string, unknown>;
      const { test_f1, best_epoch, ...rest } = raw;
      return [{ ...rest, testF1: (test_f1 ?? raw.testF1 ?? null) as number | null, bestEpoch: (best_epoch ?? raw.bestEpoch ?? null) as number | null } as unknown as TrialRecord];
    } catch (error) {
      throw new Error(`${path}:${i + 1}: invalid JSON (${(error as Error).message})`);
    }
  });
}

const fmtParam = (v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? (Math.abs(v) < 0.01 ? v.toExponential(2) : v.toFixed(3)) : String(v));
export const formatParams = (p: Params) => Object.entries(p).map(([k, v]) => `${k}=${fmtParam(v)}`).join(' ');
const fmtTime = (s: number) => `${Math.floor(s / 60)}:${String(Math.round(s % 60)).padStart(2, '0')}`;

export function bestTrial(trials: readonly TrialRecord[]): TrialRecord | null {
  return trials.filter((t) => t.state === 'complete' && t.value !== null).reduce<TrialRecord | null>((best, t) => (best === null || t.value! > best.value! ? t : best), null);
}

export async function runStudy(options: StudyOptions): Promise<StudyResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const out = resolve(options.out);
  await mkdir(out, { recursive: true });
  const trialsPath = join(out, 'trials.jsonl');
  const studyPath = join(out, 'study.json');
  const definition = { space: options.space, sampler: options.sampler.name, pruner: options.pruner.name, seed: (options.sampler as { seed?: number }).seed ?? 0, ...options.description };
  const existing = await readFile(trialsPath, 'utf8').then(() => true, () => false);
  let trials: TrialRecord[] = [];
  if (existing && !options.resume) throw new Error(`${trialsPath}: a search is already here; pass --resume to continue it, or another --out`);
  if (existing) {
    const stored = JSON.parse(await readFile(studyPath, 'utf8').catch(() => '{}')) as Record<string, unknown>;
    for (const key of Object.keys(definition)) {
      if (JSON.stringify(stored[key]) !== JSON.stringify(definition[key as keyof typeof definition])) {
        throw new Error(`${studyPath}: --resume with a different ${key} (stored ${JSON.stringify(stored[key])}); resume with the same search`);
      }
    }
    trials = await readTrials(trialsPath);
    log(`resuming ${out}: ${trials.length} of ${options.trials} trials done`);
  }
  await writeAtomically(studyPath, JSON.stringify(definition, null, 2) + '\n');

  const save = async () => {
    await writeAtomically(trialsPath, trials.map(({ testF1, bestEpoch, ...t }) => JSON.stringify({ ...t, test_f1: testF1, best_epoch: bestEpoch })).join('\n') + (trials.length ? '\n' : ''));
    const best = bestTrial(trials);
    if (best) await writeAtomically(join(out, 'best-config.json'), JSON.stringify({ ...options.base, ...best.params }, null, 2) + '\n');
    await writeAtomically(join(out, 'report.html'), renderTuneReport({ trials, space: options.space, title: `medner tune: ${options.sampler.name} sampler, ${options.pruner.name} pruner`, best }));
  };

  for (let number = trials.length; number < options.trials; number++) {
    const params = options.sampler.sample(options.space, trials, number);
    const started = performance.now();
    let record: TrialRecord;
    try {
      const outcome = await options.objective(params, number, (values) => options.pruner.shouldPrune(values, trials));
      const value = outcome.values.length ? Math.max(...outcome.values) : null;
      record = { number, params, state: outcome.pruned ? 'pruned' : 'complete', values: outcome.values, value, testF1: outcome.testF1, bestEpoch: outcome.bestEpoch, seconds: (performance.now() - started) / 1000 };
    } catch (error) {
      record = { number, params, state: 'failed', values: [], value: null, testF1: null, bestEpoch: null, seconds: (performance.now() - started) / 1000, error: (error as Error).message };
    }
    trials.push(record);
    await save();
    const best = bestTrial(trials);
    const what = record.state === 'complete'
      ? `dev F1 ${record.value!.toFixed(4)}${record.testF1 === null ? '' : `, test F1 ${record.testF1.toFixed(4)}`}`
      : record.state === 'pruned' ? `pruned after epoch ${record.values.length} (dev F1 ${record.value?.toFixed(4)})` : `failed: ${record.error}`;
    log(`trial ${number + 1}/${options.trials} ${what}, ${fmtTime(record.seconds)} | best ${best ? `${best.value!.toFixed(4)} (trial ${best.number + 1})` : 'none yet'} | ${formatParams(params)}`);
  }
  await save();
  return { trials, best: bestTrial(trials), outDir: out };
}
