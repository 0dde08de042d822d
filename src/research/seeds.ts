// Repeated training over seeds: one output directory per seed (out/seed-<n>) and a summary of
// mean ± standard deviation of micro F1 and of each type's F1 (seeds.json, printed as a table).
// One seed moves BC5CDR F1 by about a point, so claims need several.

import { readFile, writeFile, rename, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { train, type TrainOptions, type TrainResult } from '../train/trainer.js';
import { meanStd } from './significance.js';

export interface SeedRun {
  seed: number;
  dir: string;
  bestEpoch: number;
  bestDevF1: number | null;
  /** Test micro F1 (null without a test set) and each type's F1. */
  testF1: number | null;
  perType: Record<string, number>;
}

export interface SeedSummary {
  /** Which split the F1 comes from: 'test' when a test set was given, else 'dev' (the best epoch's). */
  split: 'test' | 'dev';
  seeds: number[];
  runs: SeedRun[];
  micro: { mean: number; std: number };
  perType: Record<string, { mean: number; std: number }>;
  dev: { mean: number; std: number } | null;
}

export const SEEDS_FILE = 'seeds.json';
export const seedDir = (out: string, seed: number) => join(out, `seed-${seed}`);

/** "1,2,3" or a count from a first seed: the list of seeds, checked. */
export function parseSeeds(seeds: string | undefined, repeats: string | undefined, firstSeed: number): number[] {
  if (seeds !== undefined && repeats !== undefined) throw new Error('give --seeds or --repeats, not both');
  if (seeds !== undefined) {
    const list = seeds.split(',').map((s) => s.trim());
    const numbers = list.map(Number);
    const bad = list.findIndex((s, i) => s === '' || !Number.isInteger(numbers[i]) || numbers[i]! < 0);
    if (bad >= 0) throw new Error(`--seeds: "${list[bad]}" is not a non-negative integer (expected a list like 1,2,3)`);
    if (new Set(numbers).size !== numbers.length) throw new Error(`--seeds: ${seeds} repeats a seed`);
    return numbers;
  }
  const n = Number(repeats);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--repeats must be a positive integer, got ${repeats}`);
  return Array.from({ length: n }, (_, i) => firstSeed + i);
}

/** The test line of a run's metrics.jsonl (written by train() when a test set is given). */
async function readTestScores(dir: string): Promise<{ f1: number; perType: Record<string, number> } | null> {
  const text = await readFile(join(dir, 'metrics.jsonl'), 'utf8').catch(() => '');
  const last = text.trim().split('\n').map((l) => (l ? (JSON.parse(l) as { split?: string; f1?: number; per_type?: { type: string; f1: number }[]; perType?: { type: string; f1: number }[] }) : {})).find((r) => r.split === 'test');
  if (!last || typeof last.f1 !== 'number') return null;
  return { f1: last.f1, perType: Object.fromEntries((last.per_type ?? last.perType ?? []).map((t) => [t.type, t.f1])) };
}

export function summarizeSeeds(runs: SeedRun[]): SeedSummary {
  const split = runs.every((r) => r.testF1 !== null) ? 'test' : 'dev';
  const micro = meanStd(runs.map((r) => (split === 'test' ? r.testF1! : (r.bestDevF1 ?? 0))));
  const types = [...new Set(runs.flatMap((r) => Object.keys(r.perType)))].sort();
  const perType = Object.fromEntries(types.map((t) => [t, meanStd(runs.map((r) => r.perType[t] ?? 0))]));
  const devs = runs.map((r) => r.bestDevF1).filter((v): v is number => v !== null);
  return { split, seeds: runs.map((r) => r.seed), runs, micro, perType: split === 'test' ? perType : {}, dev: devs.length === runs.length ? meanStd(devs) : null };
}

const pm = (s: { mean: number; std: number }) => `${s.mean.toFixed(4)} ± ${s.std.toFixed(4)}`;

/** The summary as a plain-text table: one row per seed, then mean ± std. */
export function formatSeedSummary(summary: SeedSummary): string {
  const types = Object.keys(summary.perType);
  const header = ['seed', `${summary.split} F1`, ...types];
  const rows = summary.runs.map((r) => [String(r.seed), (summary.split === 'test' ? r.testF1! : (r.bestDevF1 ?? 0)).toFixed(4), ...types.map((t) => (r.perType[t] ?? 0).toFixed(4))]);
  rows.push([`mean ± std (${summary.runs.length})`, pm(summary.micro), ...types.map((t) => pm(summary.perType[t]!))]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

/** Train once per seed into out/seed-<n>; the summary goes to out/seeds.json. */
export async function trainSeeds(options: TrainOptions, seeds: number[]): Promise<SeedSummary> {
  const out = resolve(options.out);
  const log = options.log ?? ((line: string) => console.log(line));
  const runs: SeedRun[] = [];
  for (const seed of seeds) {
    log(`--- seed ${seed} (${runs.length + 1} of ${seeds.length}) -> ${seedDir(out, seed)}`);
    const result: TrainResult = await train({ ...options, config: { ...options.config, seed }, out: seedDir(out, seed) });
    const test = await readTestScores(result.outDir);
    runs.push({ seed, dir: result.outDir, bestEpoch: result.bestEpoch, bestDevF1: result.bestDevF1, testF1: test?.f1 ?? null, perType: test?.perType ?? {} });
  }
  const summary = summarizeSeeds(runs);
  await mkdir(out, { recursive: true });
  const path = join(out, SEEDS_FILE);
  await writeFile(`${path}.tmp`, JSON.stringify(seedsFile(summary), null, 2) + '\n');
  await rename(`${path}.tmp`, path);
  return summary;
}

/** seeds.json: snake_case keys (entity types stay as they are), run directories relative to it. */
function seedsFile(summary: SeedSummary): Record<string, unknown> {
  return {
    split: summary.split,
    seeds: summary.seeds,
    runs: summary.runs.map((r) => ({ seed: r.seed, dir: `seed-${r.seed}`, best_epoch: r.bestEpoch, best_dev_f1: r.bestDevF1, test_f1: r.testF1, per_type: r.perType })),
    micro: summary.micro,
    per_type: summary.perType,
    dev: summary.dev,
  };
}

/** The per-seed run directories of a seeds output directory, in seed order; null if `dir` is not one. */
export async function readSeedRuns(dir: string): Promise<SeedRun[] | null> {
  const text = await readFile(join(dir, SEEDS_FILE), 'utf8').catch(() => null);
  if (text === null) return null;
  try {
    const runs = (JSON.parse(text) as { runs: Record<string, unknown>[] }).runs;
    return runs.map((r) => ({
      seed: r.seed as number,
      dir: resolve(dir, `seed-${r.seed as number}`),
      bestEpoch: (r.best_epoch ?? r.bestEpoch) as number,
      bestDevF1: (r.best_dev_f1 ?? r.bestDevF1 ?? null) as number | null,
      testF1: (r.test_f1 ?? r.testF1 ?? null) as number | null,
      perType: (r.per_type ?? r.perType ?? {}) as Record<string, number>,
    }));
  } catch (error) {
    throw new Error(`${join(dir, SEEDS_FILE)}: invalid JSON (${(error as Error).message})`);
  }
}
