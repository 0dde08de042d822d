// int8 inference (issue 15, item 3): each float checkpoint given is quantized as `medner quantize`
// does it, then the float and the int8 model are run as `medner eval` (the test corpus, scored) and
// `medner predict` (its sentences as raw text lines, tagged in batches of 64 as the CLI does) run
// them, each in its own child process on one core (MEDNER_THREADS=1). Reported per model: size of
// model.safetensors, eval and predict sentences/s by CPU time (process.cpuUsage, user + system: what
// a loaded machine does not distort much) and by wall time, the load average during the run, and
// the test F1 of each, with the int8 / float ratios.
//
//   npx tsx bench/quantize.bench.ts --model bilstm-crf=<checkpoint dir> [--model bert-bilstm-crf=<dir> ...]
//       --test <test corpus (CoNLL)> [--predict-sentences 2000] [--eval-sentences all] [--repeats 1]
//       [--out bench-results/quantize]
//
// The data paths are arguments: nothing is read from ../shared unless given. Writes <out>.json and
// <out>.md (the table the README shows) and prints the table.
//
//   npx tsx bench/quantize.bench.ts --kernels
// times the kernels alone on one core instead: the int8 GEMM (quantizing the activations included)
// against the f32 wasm GEMM on the same [m, k] x [k, n] products (BERT-layer and BiLSTM-step shapes),
// by CPU time.

import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { emitResult, runChild, versions } from './lib/harness.js';
import { machine } from './lib/report.js';

const script = fileURLToPath(import.meta.url);
const argv = process.argv.slice(2);
const option = (name: string, fallback?: string): string | undefined => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : fallback);
const options = (name: string): string[] => argv.flatMap((a, i) => (a === name && argv[i + 1] ? [argv[i + 1]!] : []));

interface RunResult {
  evalSentences: number;
  evalWallS: number;
  evalCpuS: number;
  f1: number;
  predictSentences: number;
  predictWallS: number;
  predictCpuS: number;
  loadBefore: number;
  loadAfter: number;
}

/** The child: one checkpoint, eval then predict, timed by wall clock and by this process's CPU time. */
async function child(dir: string, test: string, evalLimit: number, predictCount: number): Promise<void> {
  const { cpuBackend } = await import('../src/backend/registry.js');
  const { loadCheckpoint } = await import('../src/train/checkpoint.js');
  const { loadSentences } = await import('../src/train/corpus.js');
  const { evaluate } = await import('../src/train/evaluate.js');
  const { tagItems } = await import('../src/train/tag.js');
  const loaded = await loadCheckpoint(dir, cpuBackend);
  const { sentences: all } = await loadSentences(test, 'auto', loaded.config.scheme, { typeMap: loaded.config.type_map });
  const sentences = evalLimit > 0 ? all.slice(0, evalLimit) : all;
  const texts = Array.from({ length: predictCount }, (_, i) => ({ text: all[i % all.length]!.tokens.join(' ') }));
  const cpuSeconds = (since: NodeJS.CpuUsage) => {
    const used = process.cpuUsage(since);
    return (used.user + used.system) / 1e6;
  };
  // Warm-up: compile the kernels, fill the buffer pools.
  await evaluate(loaded.model, loaded.encoder, loaded.config.labels, sentences.slice(0, 64), cpuBackend, loaded.config.scheme);
  const loadBefore = loadavg()[0]!;
  let wall = performance.now();
  let cpu = process.cpuUsage();
  const { scores } = await evaluate(loaded.model, loaded.encoder, loaded.config.labels, sentences, cpuBackend, loaded.config.scheme);
  const evalWallS = (performance.now() - wall) / 1000;
  const evalCpuS = cpuSeconds(cpu);
  wall = performance.now();
  cpu = process.cpuUsage();
  for (let i = 0; i < texts.length; i += 64) await tagItems(texts.slice(i, i + 64), loaded, cpuBackend);
  const predictWallS = (performance.now() - wall) / 1000;
  const predictCpuS = cpuSeconds(cpu);
  const result: RunResult = { evalSentences: sentences.length, evalWallS, evalCpuS, f1: scores.micro.f1, predictSentences: texts.length, predictWallS, predictCpuS, loadBefore, loadAfter: loadavg()[0]! };
  emitResult(result);
}

const bytesOf = (dir: string) => statSync(join(dir, 'model.safetensors')).size;
const fixed = (x: number, digits = 0) => x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

async function parent(): Promise<void> {
  const models = options('--model').map((spec) => {
    const cut = spec.indexOf('=');
    if (cut < 1) throw new Error(`--model ${spec}: expected <name>=<checkpoint dir>`);
    return { name: spec.slice(0, cut), dir: resolve(spec.slice(cut + 1)) };
  });
  const test = option('--test');
  if (models.length === 0 || !test) throw new Error('usage: npx tsx bench/quantize.bench.ts --model <name>=<checkpoint dir> [--model ...] --test <test corpus> [--predict-sentences 2000] [--eval-sentences N] [--repeats 1] [--out bench-results/quantize]');
  const predictCount = Number(option('--predict-sentences', '2000'));
  const evalLimit = Number(option('--eval-sentences', '0'));
  const repeats = Number(option('--repeats', '1'));
  const outBase = resolve(option('--out', 'bench-results/quantize')!);
  const work = `${outBase}.work`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const { cpuBackend } = await import('../src/backend/registry.js');
  const { quantizeCheckpoint } = await import('../src/train/quantize.js');
  const { resolveCheckpointDir } = await import('../src/train/checkpoint.js');

  const rows: Record<string, unknown>[] = [];
  for (const model of models) {
    const floatDir = await resolveCheckpointDir(model.dir);
    const int8Dir = join(work, `${model.name}-int8`);
    await quantizeCheckpoint(floatDir, int8Dir, cpuBackend);
    const runs: Record<'float' | 'int8', RunResult[]> = { float: [], int8: [] };
    // Alternate float and int8, so a change in the machine's load touches both.
    for (let r = 0; r < repeats; r++) {
      for (const variant of ['float', 'int8'] as const) {
        console.error(`${model.name} ${variant} (run ${r + 1}/${repeats})`);
        runs[variant].push(runChild<RunResult>(script, ['--child', variant === 'float' ? floatDir : int8Dir, test, String(evalLimit), String(predictCount)], { MEDNER_THREADS: '1' }, 3_600_000));
      }
    }
    // The run with the least CPU time of each: the one least disturbed.
    const best = (list: RunResult[]) => list.reduce((a, b) => (a.evalCpuS + a.predictCpuS <= b.evalCpuS + b.predictCpuS ? a : b));
    const [float, int8] = [best(runs.float), best(runs.int8)];
    rows.push({ model: model.name, floatBytes: bytesOf(floatDir), int8Bytes: bytesOf(int8Dir), float, int8, runs });
  }

  const lines = [
    '| model | weights | model.safetensors | eval sentences/s, CPU time (wall) | predict sentences/s, CPU time (wall) | test F1 | load average (1 min) |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const row of rows as { model: string; floatBytes: number; int8Bytes: number; float: RunResult; int8: RunResult }[]) {
    const rate = (n: number, s: number) => n / s;
    for (const variant of ['float', 'int8'] as const) {
      const r = row[variant];
      const size = variant === 'float' ? row.floatBytes : row.int8Bytes;
      lines.push(`| ${row.model} | ${variant === 'float' ? 'f32' : 'int8'} | ${fixed(size / 1e6, 2)} MB | ${fixed(rate(r.evalSentences, r.evalCpuS))} (${fixed(rate(r.evalSentences, r.evalWallS))}) | ${fixed(rate(r.predictSentences, r.predictCpuS))} (${fixed(rate(r.predictSentences, r.predictWallS))}) | ${r.f1.toFixed(4)} | ${r.loadBefore.toFixed(1)}-${r.loadAfter.toFixed(1)} |`);
    }
    const [f, q] = [row.float, row.int8];
    lines.push(`| ${row.model} | **int8 / f32** | **${fixed(row.floatBytes / row.int8Bytes, 2)}x smaller** | **${fixed(f.evalCpuS / q.evalCpuS, 2)}x** (${fixed(f.evalWallS / q.evalWallS, 2)}x) | **${fixed(f.predictCpuS / q.predictCpuS, 2)}x** (${fixed(f.predictWallS / q.predictWallS, 2)}x) | **${((q.f1 - f.f1) * 100).toFixed(2)} points** | |`);
  }
  const table = lines.join('\n');
  console.log(table);
  mkdirSync(dirname(outBase), { recursive: true });
  writeFileSync(`${outBase}.md`, table + '\n');
  writeFileSync(`${outBase}.json`, JSON.stringify({ machine: machine(), versions: versions(), command: process.argv.slice(1).join(' '), rows }, null, 2) + '\n');
  rmSync(work, { recursive: true, force: true });
}

/** The int8 kernel against the f32 one, products only, one core. */
async function kernels(): Promise<void> {
  const { Int8Gemm } = await import('../src/backend/cpu/wasm/gemm-int8.js');
  const { matmul } = await import('../src/backend/cpu/matmul.js');
  const { quantizePerChannel } = await import('../src/ops/quantized.js');
  const int8 = new Int8Gemm();
  const shapes: [string, number, number, number][] = [
    ['BERT (2,128) QKV/output, 1,280 tokens', 1280, 128, 128], ['BERT (2,128) intermediate', 1280, 128, 512], ['BERT (2,128) FFN output', 1280, 512, 128],
    ['BERT-base layer, 1,280 tokens', 1280, 768, 768], ['BiLSTM step (32 rows, H 100)', 32, 100, 400], ['BiLSTM input projection (32 rows)', 32, 150, 400],
  ];
  const lines = ['| product | m x k x n | f32 GFLOP/s | int8 GOP/s | int8 / f32 |', '| --- | --- | ---: | ---: | ---: |'];
  for (const [name, m, k, n] of shapes) {
    const x = Float32Array.from({ length: m * k }, (_, i) => Math.sin(i));
    const w = Float32Array.from({ length: n * k }, (_, i) => Math.cos(i * 0.7));
    const q = quantizePerChannel(w, n, k);
    const out = new Float32Array(m * n);
    const layout = { batch: 1, m, k, n, transA: false, transB: true, batchStrideA: 0, batchStrideB: 0 };
    const reps = Math.max(5, Math.round(2e9 / (m * n * k)));
    const time = (fn: () => void) => {
      for (let i = 0; i < 3; i++) fn();
      const since = process.cpuUsage();
      for (let i = 0; i < reps; i++) fn();
      const used = process.cpuUsage(since);
      return (used.user + used.system) / 1e6 / reps;
    };
    const f32 = time(() => matmul(x, w, layout, false));
    const i8 = time(() => int8.linear(x, 0, m, q, null, out, 0));
    const rate = (s: number) => (2 * m * n * k) / s / 1e9;
    lines.push(`| ${name} | ${m} x ${k} x ${n} | ${rate(f32).toFixed(1)} | ${rate(i8).toFixed(1)} | ${(f32 / i8).toFixed(2)}x |`);
  }
  console.log(lines.join('\n'));
}

if (argv[0] === '--child') await child(argv[1]!, argv[2]!, Number(argv[3]), Number(argv[4]));
else if (argv[0] === '--kernels') await kernels();
else await parent();
