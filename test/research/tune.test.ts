// medner tune: the search space file, the samplers (TPE beats random search on a known
// function, over seeds), the median pruner, the study loop (trials.jsonl, best-config.json,
// report.html, --resume), and the CLI end to end on the committed sample.

import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { checkSpace, type Params, type SearchSpace } from '../../src/research/tune/space.js';
import { ParzenEstimator, RandomSampler, TpeSampler, defaultGamma, defaultWeights, type FinishedTrial, type Sampler } from '../../src/research/tune/samplers.js';
import { MedianPruner, NopPruner, median } from '../../src/research/tune/pruner.js';
import { readTrials, runStudy, type Objective } from '../../src/research/tune/study.js';
import { Rng } from '../../src/tensor/random.js';
import { meanStd } from '../../src/research/significance.js';

const SPACE: SearchSpace = {
  lr: { type: 'loguniform', low: 1e-5, high: 1 },
  dropout: { type: 'uniform', low: 0, high: 0.9 },
  batchSize: { type: 'int', low: 1, high: 64, log: true },
  schedule: { type: 'categorical', choices: ['linear', 'cosine', 'constant'] },
};

/** A known objective with its maximum 1 at lr = 10^-2.5, dropout = 0.3, batchSize = 16, cosine. */
function objective(p: Params): number {
  const lr = Math.log10(p.lr as number) + 2.5;
  const bs = Math.log2(p.batchSize as number) - 4;
  return 1 - 0.1 * lr * lr - 2 * ((p.dropout as number) - 0.3) ** 2 - 0.02 * bs * bs - (p.schedule === 'cosine' ? 0 : 0.1);
}

function search(sampler: Sampler, trials: number): number {
  const history: FinishedTrial[] = [];
  for (let i = 0; i < trials; i++) {
    const params = sampler.sample(SPACE, history, i);
    history.push({ params, state: 'complete', value: objective(params) });
  }
  return Math.max(...history.map((t) => t.value!));
}

describe('search space', () => {
  it('reads the four kinds and names the key of a bad entry', () => {
    expect(checkSpace(SPACE, 's.json')).toEqual({ ...SPACE, batchSize: { type: 'int', low: 1, high: 64, log: true } });
    expect(() => checkSpace({ lr: { type: 'loguniform', low: 0, high: 1 } }, 's.json')).toThrow(/s.json: "lr": a log scale needs low > 0/);
    expect(() => checkSpace({ lr: { type: 'normal', low: 0, high: 1 } }, 's.json')).toThrow(/"type" must be uniform, loguniform, int or categorical/);
    expect(() => checkSpace({ bs: { type: 'int', low: 1.5, high: 4 } }, 's.json')).toThrow(/integer low and high/);
    expect(() => checkSpace({ x: { type: 'uniform', low: 2, high: 1 } }, 's.json')).toThrow(/low < high/);
    expect(() => checkSpace({ s: { type: 'categorical', choices: [] } }, 's.json')).toThrow(/non-empty array/);
    expect(() => checkSpace({}, 's.json')).toThrow(/empty/);
  });

  it('samplers stay inside the space, ints are ints, and the same seed and history give the same settings', () => {
    const tpe = new TpeSampler({ seed: 3 });
    const history: FinishedTrial[] = [];
    for (let i = 0; i < 30; i++) {
      const p = tpe.sample(SPACE, history, i);
      expect(p.lr as number).toBeGreaterThanOrEqual(1e-5);
      expect(p.lr as number).toBeLessThanOrEqual(1);
      expect(Number.isInteger(p.batchSize)).toBe(true);
      expect(p.batchSize as number).toBeGreaterThanOrEqual(1);
      expect(p.batchSize as number).toBeLessThanOrEqual(64);
      expect(['linear', 'cosine', 'constant']).toContain(p.schedule);
      expect(new TpeSampler({ seed: 3 }).sample(SPACE, history, i)).toEqual(p);
      history.push({ params: p, state: 'complete', value: objective(p) });
    }
  });
});

describe('TPE (Optuna defaults)', () => {
  it("has Optuna's gamma and weights", () => {
    expect([1, 10, 11, 100, 1000].map(defaultGamma)).toEqual([1, 1, 2, 10, 25]);
    expect(defaultWeights(3)).toEqual([1, 1, 1]);
    const w = defaultWeights(30);
    expect(w).toHaveLength(30);
    expect(w[0]).toBeCloseTo(1 / 30, 12);
    expect(w.slice(5)).toEqual(new Array(25).fill(1));
  });

  it('the Parzen estimator is a normalised density on its bounds', () => {
    const p = ParzenEstimator.fit([0.2, 0.25, 0.8], 0, 1, 1);
    let integral = 0;
    for (let i = 0; i < 2000; i++) integral += Math.exp(p.logPdf((i + 0.5) / 2000)) / 2000;
    expect(integral).toBeCloseTo(1, 3);
    const rng = new Rng(1);
    for (let i = 0; i < 200; i++) {
      const x = p.sample(rng);
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThanOrEqual(1);
    }
  });

  it('uses random startup trials first (10), then concentrates near the best', () => {
    const tpe = new TpeSampler({ seed: 1 });
    const random = new RandomSampler(1);
    const history: FinishedTrial[] = [];
    for (let i = 0; i < 10; i++) {
      expect(tpe.sample(SPACE, history, i)).toEqual(random.sample(SPACE, history, i));
      const p = random.sample(SPACE, history, i);
      history.push({ params: p, state: 'complete', value: objective(p) });
    }
    expect(tpe.sample(SPACE, history, 10)).not.toEqual(random.sample(SPACE, history, 10));
  });

  it('beats random search on a known function over 12 seeds (40 trials each)', () => {
    const seeds = Array.from({ length: 12 }, (_, i) => i);
    const tpe = seeds.map((s) => search(new TpeSampler({ seed: s }), 40));
    const random = seeds.map((s) => search(new RandomSampler(s), 40));
    const wins = seeds.filter((_, i) => tpe[i]! > random[i]!).length;
    const [t, r] = [meanStd(tpe), meanStd(random)];
    console.log(`best of 40 trials over 12 seeds: TPE ${t.mean.toFixed(4)} ± ${t.std.toFixed(4)}, random ${r.mean.toFixed(4)} ± ${r.std.toFixed(4)}; TPE better on ${wins} seeds`);
    expect(t.mean).toBeGreaterThan(r.mean);
    expect(wins).toBeGreaterThanOrEqual(9);
  });
});

describe('median pruner', () => {
  const done = (values: number[]) => ({ state: 'complete' as const, values });

  it('prunes a trial whose best so far is below the median of the complete trials at that epoch, after 5 startup trials', () => {
    const pruner = new MedianPruner();
    const history = [done([0.1, 0.5]), done([0.2, 0.6]), done([0.3, 0.7]), done([0.4, 0.8])];
    expect(pruner.shouldPrune([0.0], history)).toBe(false); // 4 complete trials: still starting up
    history.push(done([0.5, 0.9]));
    // median at epoch 1 = 0.3
    expect(pruner.shouldPrune([0.29], history)).toBe(true);
    expect(pruner.shouldPrune([0.3], history)).toBe(false);
    // epoch 2: median 0.7; the best so far counts (0.75 at epoch 1 holds it up)
    expect(pruner.shouldPrune([0.75, 0.1], history)).toBe(false);
    expect(pruner.shouldPrune([0.5, 0.69], history)).toBe(true);
    // epoch 3: no complete trial reached it
    expect(pruner.shouldPrune([0.5, 0.8, 0.0], history)).toBe(false);
    // pruned trials do not set the median
    expect(pruner.shouldPrune([0.29], [...history, { state: 'pruned', values: [0.0] }, { state: 'pruned', values: [0.0] }])).toBe(true);
    expect(new NopPruner().shouldPrune()).toBe(false);
    expect(median([3, 1, 2, 10])).toBe(2.5);
  });
});

describe('study', () => {
  // A fake training: per-epoch "dev F1" rises toward the known objective.
  const fake: Objective = async (params, _number, shouldPrune) => {
    const values: number[] = [];
    for (let epoch = 1; epoch <= 4; epoch++) {
      values.push(objective(params) * (epoch / 4));
      if (shouldPrune(values)) return { values, pruned: true, testF1: null, bestEpoch: null };
    }
    return { values, pruned: false, testF1: values.at(-1)! - 0.01, bestEpoch: 4 };
  };
  const quiet = () => {};

  it('writes trials.jsonl, best-config.json and report.html; --resume continues where it stopped, as an uninterrupted search', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'medner-tune-'));
    const whole = await runStudy({ space: SPACE, trials: 16, sampler: new TpeSampler({ seed: 5 }), pruner: new MedianPruner(), out: join(dir, 'whole'), objective: fake, log: quiet, base: { epochs: 4 } });
    expect(whole.trials).toHaveLength(16);
    expect(whole.trials.some((t) => t.state === 'pruned')).toBe(true);
    const part = join(dir, 'part');
    await runStudy({ space: SPACE, trials: 7, sampler: new TpeSampler({ seed: 5 }), pruner: new MedianPruner(), out: part, objective: fake, log: quiet });
    await expect(runStudy({ space: SPACE, trials: 16, sampler: new TpeSampler({ seed: 5 }), pruner: new MedianPruner(), out: part, objective: fake, log: quiet })).rejects.toThrow(/pass --resume/);
    await expect(runStudy({ space: SPACE, trials: 16, sampler: new RandomSampler(5), pruner: new MedianPruner(), out: part, objective: fake, log: quiet, resume: true })).rejects.toThrow(/different sampler/);
    const lines: string[] = [];
    const resumed = await runStudy({ space: SPACE, trials: 16, sampler: new TpeSampler({ seed: 5 }), pruner: new MedianPruner(), out: part, objective: fake, log: (l) => lines.push(l), resume: true, base: { epochs: 4 } });
    expect(lines[0]).toMatch(/resuming .*: 7 of 16 trials done/);
    expect(lines.filter((l) => /^trial \d+\/16 /.test(l))).toHaveLength(9);
    const strip = (t: { seconds: number }) => ({ ...t, seconds: 0 });
    expect(resumed.trials.map(strip)).toEqual(whole.trials.map(strip));
    expect((await readTrials(join(part, 'trials.jsonl'))).map(strip)).toEqual(whole.trials.map(strip));
    const best = JSON.parse(readFileSync(join(part, 'best-config.json'), 'utf8'));
    expect(best).toEqual({ epochs: 4, ...resumed.best!.params });
    const html = readFileSync(join(part, 'report.html'), 'utf8');
    expect(html).toContain('dev F1 by trial');
    for (const key of Object.keys(SPACE)) expect(html).toContain(`dev F1 against ${key}`);
    expect((html.match(/<circle/g) ?? []).length).toBe(16 * 5);
  });

  it('records a failing trial and goes on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'medner-tune-'));
    const r = await runStudy({
      space: SPACE, trials: 3, sampler: new RandomSampler(0), pruner: new NopPruner(), out: dir, log: quiet,
      objective: async (p, n, s) => {
        if (n === 1) throw new Error('training diverged');
        return fake(p, n, s);
      },
    });
    expect(r.trials.map((t) => t.state)).toEqual(['complete', 'failed', 'complete']);
    expect(r.trials[1]!.error).toBe('training diverged');
  });
});

describe('medner tune (CLI) on the committed sample', () => {
  const CORPUS = 'test/fixtures/data/ncbi-disease/sample.iob.tsv';
  const cli = (args: string[]) => spawnSync(process.execPath, ['src/cli/bin.js', ...args], { encoding: 'utf8' });
  const dir = mkdtempSync(join(tmpdir(), 'medner-tune-cli-'));
  const out = join(dir, 'search');
  const args = ['tune', '--space', 'test/fixtures/research/space.json', '--train', CORPUS, '--dev', CORPUS, '--test', CORPUS, '--config', 'test/fixtures/research/tiny.json', '--epochs', '3', '--out', out];

  it('runs trials with a progress line each, writes the files, resumes, and the best config trains', () => {
    const first = cli([...args, '--trials', '2', '--pruner', 'none']);
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout.split('\n').filter((l) => /^trial \d\/2 (dev F1|pruned)/.test(l))).toHaveLength(2);
    const again = cli([...args, '--trials', '3', '--pruner', 'none', '--resume']);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/resuming .*: 2 of 3 trials done/);
    expect(again.stdout).toMatch(/^trial 3\/3 /m);
    const trials = readFileSync(join(out, 'trials.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(trials).toHaveLength(3);
    for (const t of trials) {
      expect(Object.keys(t.params).sort()).toEqual(['batchSize', 'dropout', 'lr', 'schedule']);
      expect(t.values.length).toBeGreaterThan(0);
      expect(t.seconds).toBeGreaterThan(0);
    }
    expect(existsSync(join(out, 'report.html'))).toBe(true);
    const train = cli(['train', '--train', CORPUS, '--test', CORPUS, '--config', join(out, 'best-config.json'), '--out', join(dir, 'best'), '--no-progress']);
    expect(train.status, train.stderr).toBe(0);
    expect(train.stdout).toMatch(/test F1 \d/);
  }, 300_000);

  it('fails with one line on a bad space or a setting the space cannot hold', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ dropout: { type: 'uniform', low: 0, high: 1.5 } }));
    const r = cli([...args, '--trials', '1', '--space', bad, '--out', join(dir, 'x')]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/^medner: .*bad\.json: "dropout".*"dropout" must be in \[0, 1\)/);
    writeFileSync(bad, '{"lr": ');
    expect(cli([...args, '--trials', '1', '--space', bad, '--out', join(dir, 'x')]).stderr).toMatch(/bad\.json: invalid JSON/);
  });
});

describe('medner tune takes every train option', () => {
  it("from train's own definitions: the same flags, so a trial can be given whatever a train run can", async () => {
    const { Command } = await import('commander');
    const { registerTrain } = await import('../../src/cli/train.js');
    const { registerTune } = await import('../../src/cli/tune.js');
    const program = new Command();
    registerTrain(program);
    registerTune(program);
    const flags = (name: string) => new Set(program.commands.find((c) => c.name() === name)!.options.map((o) => o.long!));
    const train = flags('train');
    const tune = flags('tune');
    // What only a single run has: its resume, repeats over seeds, overwrite, progress bar.
    const runOnly = ['--resume', '--seeds', '--repeats', '--overwrite', '--no-progress'];
    expect([...train].filter((f) => !runOnly.includes(f) && !tune.has(f))).toEqual([]);
    for (const f of ['--strict', '--label-map', '--min-type-count', '--labels', '--tokens-field', '--vocab', '--class-weights', '--scheme']) expect(tune.has(f), f).toBe(true);
  });
});
