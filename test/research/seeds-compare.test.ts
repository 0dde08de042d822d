// `medner train --seeds` and `medner compare` end to end on the committed NCBI-disease sample,
// through the CLI as users run them (tiny model, six epochs).

import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { formatSeedSummary, parseSeeds, summarizeSeeds } from '../../src/research/seeds.js';

const CORPUS = 'test/fixtures/data/ncbi-disease/sample.iob.tsv';
const TINY = ['--no-progress', '--config', 'test/fixtures/research/tiny.json'];
const cli = (args: string[]) => spawnSync(process.execPath, ['src/cli/bin.js', ...args], { encoding: 'utf8' });

describe('seeds', () => {
  it('parses --seeds and --repeats, with clear errors', () => {
    expect(parseSeeds('1,2,3', undefined, 42)).toEqual([1, 2, 3]);
    expect(parseSeeds(undefined, '3', 42)).toEqual([42, 43, 44]);
    expect(() => parseSeeds('1,x', undefined, 0)).toThrow(/"x" is not a non-negative integer/);
    expect(() => parseSeeds('1,1', undefined, 0)).toThrow(/repeats a seed/);
    expect(() => parseSeeds(undefined, '0', 0)).toThrow(/--repeats must be a positive integer/);
    expect(() => parseSeeds('1', '2', 0)).toThrow(/not both/);
  });

  it('summarizes mean ± sample std of micro and per-type F1', () => {
    const summary = summarizeSeeds([
      { seed: 1, dir: 'a', bestEpoch: 1, bestDevF1: 0.5, testF1: 0.6, perType: { Disease: 0.6, Chemical: 0.2 } },
      { seed: 2, dir: 'b', bestEpoch: 2, bestDevF1: 0.7, testF1: 0.8, perType: { Disease: 0.8, Chemical: 0.4 } },
    ]);
    expect(summary.split).toBe('test');
    expect(summary.micro.mean).toBeCloseTo(0.7, 12);
    expect(summary.micro.std).toBeCloseTo(Math.SQRT2 * 0.1, 12);
    expect(summary.perType.Chemical!.mean).toBeCloseTo(0.3, 12);
    expect(summary.dev!.mean).toBeCloseTo(0.6, 12);
    expect(formatSeedSummary(summary)).toMatch(/mean ± std \(2\)\s+0\.7000 ± 0\.1414/);
  });
});

describe('medner train --seeds and medner compare (CLI)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'medner-seeds-'));
  const seeds = join(dir, 'seeds');

  it('trains one directory per seed and writes seeds.json', () => {
    const run = cli(['train', '--train', CORPUS, '--dev', CORPUS, '--test', CORPUS, '--out', seeds, '--seeds', '1,2', ...TINY]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/test F1 over 2 seeds/);
    expect(run.stdout).toMatch(/mean ± std \(2\)/);
    for (const s of [1, 2]) expect(existsSync(join(seeds, `seed-${s}`, 'best', 'model.safetensors'))).toBe(true);
    const summary = JSON.parse(readFileSync(join(seeds, 'seeds.json'), 'utf8'));
    expect(summary.seeds).toEqual([1, 2]);
    expect(Object.keys(summary.per_type)).toEqual(['Disease']);
    // Different seeds, different models.
    expect(summary.runs[0].test_f1).not.toBe(summary.runs[1].test_f1);
    expect(summary.runs.map((r: { dir: string }) => r.dir)).toEqual(['seed-1', 'seed-2']);
  }, 300_000);

  it('compares two runs: a model against itself is p = 1, difference 0; --json has the fields', () => {
    const a = join(seeds, 'seed-1');
    const b = join(seeds, 'seed-2');
    const self = cli(['compare', a, a, '--data', CORPUS, '--samples', '200', '--json']);
    expect(self.status, self.stderr).toBe(0);
    const same = JSON.parse(self.stdout);
    expect(same.f1_difference).toBe(0);
    expect(same.randomization.p_value).toBe(1);
    expect(same.bootstrap.interval95).toEqual([0, 0]);
    const pair = cli(['compare', a, b, '--data', CORPUS, '--samples', '500', '--json']);
    expect(pair.status, pair.stderr).toBe(0);
    const r = JSON.parse(pair.stdout);
    expect(r.f1_difference).toBeCloseTo(r.a.f1 - r.b.f1, 12);
    expect(r.bootstrap.interval95[0]).toBeLessThanOrEqual(r.f1_difference);
    expect(r.bootstrap.interval95[1]).toBeGreaterThanOrEqual(r.f1_difference);
    expect(r.randomization.p_value).toBeGreaterThan(0);
    expect(r.randomization.p_value).toBeLessThanOrEqual(1);
    // The test-set F1 each run reports equals the F1 its metrics.jsonl recorded.
    const summary = JSON.parse(readFileSync(join(seeds, 'seeds.json'), 'utf8'));
    expect(r.a.f1).toBeCloseTo(summary.runs[0].test_f1, 10);
    const text = cli(['compare', a, b, '--data', CORPUS, '--samples', '200']);
    expect(text.stdout).toMatch(/approximate randomization: p = /);
    expect(text.stdout).toMatch(/paired bootstrap: 95% interval \[/);
  }, 300_000);

  it('pairs seed directories seed by seed', () => {
    const r = cli(['compare', seeds, seeds, '--data', CORPUS, '--samples', '100', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.a.models).toHaveLength(2);
    expect(json.pairs).toBe(2 * json.sentences);
  }, 300_000);

  it('fails with one line naming the problem', () => {
    const r = cli(['compare', join(dir, 'nope'), join(dir, 'nope'), '--data', CORPUS]);
    expect(r.status).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^medner: .*nope/);
  });
});
