// `medner predict` at corpus scale, as a user runs it: the real executable, a model trained here, a corpus made
// from the committed fixtures. The README's recipes in examples/cluster/ split it (GNU parallel 4 ways for
// real; the Slurm script and the Kubernetes manifest's command with their scheduler's variables set by
// hand) and the union equals one run; a run killed with SIGKILL and continued with --resume ends with the
// same file as an uninterrupted run (plain and gzip).

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { constants as zlib, gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { trainTagger } from '../../src/api.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = join(root, 'src/cli/bin.js');
const dir = mkdtempSync(join(tmpdir(), 'medner-predict-corpus-'));
const model = join(dir, 'model');

/** Sentences of the committed BC5CDR and NCBI-disease samples, each a document with an id and extra fields. */
function corpus(copies: number): string {
  const texts: string[] = [];
  for (const file of ['bc5cdr/sample.iob.tsv', 'ncbi-disease/sample.iob.tsv']) {
    for (const block of readFileSync(join(root, 'test/fixtures/data', file), 'utf8').split(/\n\s*\n/)) {
      const tokens = block.split('\n').filter((l) => l.trim()).map((l) => l.split('\t')[0]);
      if (tokens.length) texts.push(tokens.join(' '));
    }
  }
  let out = '';
  for (let copy = 0; copy < copies; copy++) texts.forEach((text, i) => (out += JSON.stringify({ id: `doc-${copy}-${i}`, source: { file: 'fixture', copy }, text }) + '\n'));
  return out;
}

function medner(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', timeout: 120_000, env: { ...process.env, MEDNER_BACKEND: 'cpu' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Lines of an output, gunzipped (a gzip stream cut by a kill decodes as far as it goes). */
const lines = (path: string, gz = path.endsWith('.gz')) =>
  (gz ? gunzipSync(readFileSync(path), { finishFlush: zlib.Z_SYNC_FLUSH }) : readFileSync(path)).toString('utf8').split('\n').filter(Boolean);
const byId = (all: string[]) => [...all].sort((a, b) => ((JSON.parse(a) as { id: string }).id < (JSON.parse(b) as { id: string }).id ? -1 : 1));

/** How the recipes find the CLI in a checkout (installed, it is `medner`). */
const recipeEnv = { ...process.env, MEDNER_BACKEND: 'cpu', MEDNER: `${process.execPath} ${bin}` };

/**
 * The output of one plain run (no shard, no kill) of predict over `input`, made by the first test that
 * needs it and shared after: each test gets its reference itself, so any test runs alone or in any order.
 */
const references = new Map<string, string>();
function plainRun(input: string, name: string, extra: string[] = []): string {
  const out = join(dir, name);
  const key = JSON.stringify([input, out, extra]);
  if (!references.has(key)) {
    const r = medner(['predict', '--model', model, '--input', input, '--input-format', 'jsonl', ...extra, '--out', out]);
    expect(r.status, r.stderr).toBe(0);
    references.set(key, out);
  }
  return references.get(key)!;
}

const small = join(dir, 'small.jsonl');
const large = join(dir, 'large.jsonl');

beforeAll(async () => {
  // A tiny BiLSTM-CRF: what it tags does not matter here, only that every run tags alike.
  const fixture = join(root, 'test/fixtures/data/bc5cdr/sample.iob.tsv');
  await trainTagger({ train: fixture, dev: fixture, out: model, config: { epochs: 6, wordDim: 16, lstmHidden: 16, charFilters: 8 } });
  writeFileSync(small, corpus(3));
  writeFileSync(large, corpus(20));
}, 120_000);

describe('predict --shard', () => {
  it('GNU parallel, 4 shards by position: the union of the outputs is one unsharded run, line for line', () => {
    const expected = lines(plainRun(small, 'single.jsonl'));
    expect(expected).toHaveLength(lines(small).length);
    // Every input field stays with the entities.
    const first = JSON.parse(expected[0]!) as Record<string, unknown>;
    expect(Object.keys(first)).toEqual(['id', 'source', 'text', 'entities']);
    expect(first.source).toEqual({ file: 'fixture', copy: 0 });
    expect(expected.some((l) => (JSON.parse(l) as { entities: unknown[] }).entities.length > 0)).toBe(true);

    // The README's GNU parallel recipe (.ci/setup installs Debian's parallel).
    const shards = join(dir, 'parallel');
    execFileSync('bash', ['examples/cluster/parallel.sh', model, small, shards, '4', '--', '--batch-size', '8'], { cwd: root, stdio: 'pipe', timeout: 240_000, env: recipeEnv });
    const parts = [0, 1, 2, 3].map((i) => lines(join(shards, `part-${i}.jsonl.gz`)));
    for (const part of parts) expect(part.length).toBeGreaterThan(0);
    expect(byId(parts.flat())).toEqual(byId(expected));
  }, 300_000);

  it('--shard-by id puts each document in the shard of its id hash, whatever the input order', () => {
    const reversed = join(dir, 'reversed.jsonl');
    writeFileSync(reversed, lines(small).reverse().join('\n') + '\n');
    const outputs: string[][] = [];
    for (const input of [small, reversed]) {
      const parts = [0, 1].map((i) => {
        const out = join(dir, `byid-${outputs.length}-${i}.jsonl`);
        const r = medner(['predict', '--model', model, '--input', input, '--input-format', 'jsonl', '--shard', `${i}/2`, '--shard-by', 'id', '--out', out]);
        expect(r.status, r.stderr).toBe(0);
        expect(r.stderr).toMatch(new RegExp(`shard ${i}/2 \\(by id\\) tagged \\d+ of ${lines(small).length} documents`));
        return lines(out).map((l) => (JSON.parse(l) as { id: string }).id).sort();
      });
      outputs.push(...parts);
    }
    expect(outputs[0]).toEqual(outputs[2]);
    expect(outputs[1]).toEqual(outputs[3]);
    expect([...outputs[0]!, ...outputs[1]!].sort()).toEqual(lines(small).map((l) => (JSON.parse(l) as { id: string }).id).sort());
  }, 120_000);

  it('refuses a malformed shard and --resume without --out, with a one-line error', () => {
    const bad = medner(['predict', '--model', model, '--input', small, '--input-format', 'jsonl', '--shard', '4/4']);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr.trim()).toBe('medner: --shard 4/4: I must be in 0..N-1 (shards are counted from 0)');
    const noOut = medner(['predict', '--model', model, '--input', small, '--resume']);
    expect(noOut.stderr.trim()).toBe('medner: --resume needs --out <file> (the output to continue)');
  }, 60_000);
});

describe('predict --out --resume', () => {
  for (const name of ['resumed.jsonl', 'resumed.jsonl.gz']) {
    it(`${name}: kill -9 mid-run, then --resume, gives the file of an uninterrupted run`, async () => {
      const reference = plainRun(large, `reference-${name}`, ['--batch-size', '2']);

      const out = join(dir, name);
      const partial = `${out}.partial`;
      const child = spawn(process.execPath, [bin, 'predict', '--model', model, '--input', large, '--input-format', 'jsonl', '--batch-size', '2', '--out', out], { cwd: root, stdio: 'ignore' });
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      // Kill once a few batches are on disk (the partial file grows as batches are written).
      const deadline = Date.now() + 60_000;
      while (!(existsSync(partial) && statSync(partial).size > 2_000) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
      child.kill('SIGKILL');
      await exited;
      expect(existsSync(out)).toBe(false); // killed before the end: only the partial file
      const done = lines(partial, name.endsWith('.gz')).length;

      const resumed = medner(['predict', '--model', model, '--input', large, '--input-format', 'jsonl', '--batch-size', '2', '--out', out, '--resume']);
      expect(resumed.status, resumed.stderr).toBe(0);
      expect(resumed.stderr).toMatch(/ already in /);
      expect(existsSync(partial)).toBe(false);
      if (name.endsWith('.gz')) expect(lines(out)).toEqual(lines(reference));
      else expect(readFileSync(out, 'utf8')).toBe(readFileSync(reference, 'utf8'));
      expect(done).toBeLessThan(lines(reference).length);
    }, 240_000);
  }

  it('a half-written last line is rewritten; an output that predict did not write is refused', () => {
    const all = readFileSync(plainRun(large, 'reference-resumed.jsonl', ['--batch-size', '2']), 'utf8');
    const out = join(dir, 'cut.jsonl');
    // Cut the file in the middle of its 31st line, as a kill during a write would.
    const cut = all.split('\n').slice(0, 30).join('\n').length + 1 + 25;
    writeFileSync(`${out}.partial`, all.slice(0, cut));
    const r = medner(['predict', '--model', model, '--input', large, '--input-format', 'jsonl', '--out', out, '--resume']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/ 30 already in /);
    expect(readFileSync(out, 'utf8')).toBe(all);

    writeFileSync(`${out}.partial`, 'not json\n');
    const bad = medner(['predict', '--model', model, '--input', large, '--input-format', 'jsonl', '--out', out, '--resume']);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr.trim()).toMatch(/^medner: .*cut\.jsonl\.partial:1: not a JSON line/);
  }, 120_000);

  it('PubTator output resumes at a document boundary, plain-text input by line number', () => {
    const pubtator = join(dir, 'in.pubtator');
    writeFileSync(pubtator, ['bc5cdr', 'ncbi-disease'].map((c) => readFileSync(join(root, `test/fixtures/data/${c}/sample.pubtator.txt`), 'utf8').trim()).join('\n\n') + '\n');
    const text = join(dir, 'in.txt');
    writeFileSync(text, lines(small).map((l) => (JSON.parse(l) as { text: string }).text).join('\n') + '\n');
    for (const [input, name] of [[pubtator, 'out.pubtator'], [text, 'out-text.jsonl']] as const) {
      const reference = join(dir, `reference-${name}`);
      expect(medner(['predict', '--model', model, '--input', input, '--out', reference]).status).toBe(0);
      const all = readFileSync(reference, 'utf8');
      const out = join(dir, name);
      // Cut inside the third record: the PubTator document's mention lines, or the third JSON line.
      const third = name.endsWith('.pubtator') ? all.split('\n\n').slice(0, 2).join('\n\n').length + 2 : all.split('\n').slice(0, 2).join('\n').length + 1;
      writeFileSync(`${out}.partial`, all.slice(0, third + (name.endsWith('.pubtator') ? all.slice(third).indexOf('\n', all.slice(third).indexOf('|a|')) + 1 : 10)));
      const r = medner(['predict', '--model', model, '--input', input, '--out', out, '--resume']);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/; 2 already in /);
      expect(readFileSync(out, 'utf8')).toBe(all);
    }
  }, 120_000);
});

describe('cluster recipes', () => {
  const expected = () => byId(lines(plainRun(small, 'single.jsonl')));

  it('examples/cluster/*.sh and the Slurm script pass bash -n', () => {
    for (const file of ['parallel.sh', 'slurm-predict.sbatch']) execFileSync('bash', ['-n', `examples/cluster/${file}`], { cwd: root });
  });

  it('the Slurm array script: tasks 0 and 1 of --array=0-1 tag the two shards', () => {
    const script = readFileSync(join(root, 'examples/cluster/slurm-predict.sbatch'), 'utf8');
    expect(script).toMatch(/^#SBATCH --array=0-\d+/m);
    // srun runs its command here; the array variables are what Slurm sets for --array=0-1.
    const shims = join(dir, 'shims');
    execFileSync('mkdir', ['-p', shims]);
    writeFileSync(join(shims, 'srun'), '#!/bin/sh\nexec "$@"\n', { mode: 0o755 });
    const out = join(dir, 'slurm');
    for (const task of ['0', '1']) {
      execFileSync('bash', ['examples/cluster/slurm-predict.sbatch'], { cwd: root, stdio: 'pipe', env: { ...recipeEnv, PATH: `${shims}:${process.env.PATH}`, MODEL: model, INPUT: small, OUT_DIR: out, SLURM_ARRAY_TASK_ID: task, SLURM_ARRAY_TASK_MAX: '1' } });
    }
    expect(byId([0, 1].flatMap((i) => lines(join(out, `part-${i}.jsonl.gz`))))).toEqual(expected());
  }, 120_000);

  it('the Kubernetes manifest parses as an Indexed Job whose pods 0 and 1 tag the two shards', async () => {
    const { parse } = await import('yaml');
    const job = parse(readFileSync(join(root, 'examples/cluster/k8s-predict-job.yaml'), 'utf8')) as {
      apiVersion: string;
      kind: string;
      spec: { completionMode: string; completions: number; template: { spec: { containers: { command: string[]; args: string[]; env: { name: string; value: string }[] }[] } } };
    };
    expect([job.apiVersion, job.kind, job.spec.completionMode]).toEqual(['batch/v1', 'Job', 'Indexed']);
    const container = job.spec.template.spec.containers[0]!;
    const env = Object.fromEntries(container.env.map((e) => [e.name, e.value]));
    expect(Number(env.SHARDS)).toBe(job.spec.completions);
    expect(container.command).toEqual(['/bin/sh', '-c']);
    // The pod's command, run here with the variables Kubernetes sets for completions: 2.
    const out = join(dir, 'k8s');
    for (const index of ['0', '1']) {
      execFileSync('/bin/sh', ['-c', container.args[0]!], { cwd: root, stdio: 'pipe', env: { ...recipeEnv, ...env, MODEL: model, INPUT: small, OUT_DIR: out, SHARDS: '2', JOB_COMPLETION_INDEX: index } });
    }
    expect(byId([0, 1].flatMap((i) => lines(join(out, `part-${i}.jsonl.gz`))))).toEqual(expected());
  }, 120_000);
});

