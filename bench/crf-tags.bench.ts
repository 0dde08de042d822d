// The CRF at many tags (MedMentions-sized label sets), per token, beside PyTorch's batched CRF:
// the log-partition with its gradient (crfForward + crfBackward, what a training step runs) and
// Viterbi, at 5, 33, 129 and 255 tags, batch 32 of 13-26 words (lengths spread as a real batch).
// PyTorch: bench/crf_tags_torch.py, the same shapes, the CRF as ner_ref.py / pytorch-crf write it
// (logsumexp over [B, C, C] per step, autograd for the gradient; max over [B, C, C] for Viterbi).
//
//   MEDNER_THREADS=1 npx tsx bench/crf-tags.bench.ts [--quick] [--tags 5,33,129,255] [--python /usr/bin/python3]
//
// Prints µs per real token for both engines and writes bench-results/crf-tags.json.

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpuBackend } from '../src/backend/registry.js';
import { flag, option, round, timeSteps, versions } from './lib/harness.js';
import { machine, writeJson } from './lib/report.js';

const quick = flag('--quick');
const tagSizes = option('--tags', quick ? '5,33' : '5,33,129,255').split(',').map(Number);
const python = option('--python', '/usr/bin/python3');
const B = 32;
const T = 26;
const backend = cpuBackend;

let seed = 7;
const random = (n: number, scale = 1) => Float32Array.from({ length: n }, () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5) * 2 * scale);
const lengths = Array.from({ length: B }, (_, b) => Math.ceil(T / 2 + ((T / 2) * b) / B));
const tokens = lengths.reduce((a, n) => a + n, 0);

interface Row { tags: number; medner: { nll: number; viterbi: number }; torch: { nll: number; viterbi: number } | null }
const rows: Row[] = [];
for (const C of tagSizes) {
  const shape = { batch: B, steps: T, tags: C };
  const maskValues = new Float32Array(B * T);
  lengths.forEach((n, b) => maskValues.fill(1, b * T, b * T + n));
  const [emissions, mask, transitions, start, end] = [random(B * T * C), maskValues, random(C * C, 0.1), random(C, 0.1), random(C, 0.1)].map((a) => backend.fromArray(a));
  const dlogZ = backend.fromArray(new Float32Array(B).fill(1 / B));
  const free = (o: object) => Object.values(o).forEach((s) => backend.free(s));
  const budget = { budgetMs: quick ? 500 : 3000, minRuns: 3 };
  const nll = await timeSteps(async () => {
    const forward = backend.crfForward(emissions!, mask!, transitions!, start!, end!, shape);
    free(backend.crfBackward(emissions!, mask!, transitions!, start!, end!, forward.alpha, dlogZ, shape));
    free(forward);
  }, budget);
  const viterbi = await timeSteps(async () => void free(backend.viterbi(emissions!, mask!, transitions!, start!, end!, shape)), budget);
  let torch: Row['torch'] = null;
  if (existsSync(python)) {
    try {
      const out = execFileSync(python, ['bench/crf_tags_torch.py', '--tags', String(C), '--batch', String(B), '--steps', String(T), '--threads', process.env.MEDNER_THREADS ?? '1', ...(quick ? ['--quick'] : [])], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
      torch = JSON.parse(out.trim().split('\n').at(-1)!) as Row['torch'];
    } catch (error) {
      console.error(`PyTorch peer failed at ${C} tags: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  rows.push({ tags: C, medner: { nll: (nll.ms * 1000) / tokens, viterbi: (viterbi.ms * 1000) / tokens }, torch });
}

console.log(`CRF per real token (µs; batch ${B} x up to ${T} words, ${tokens} real tokens; median of timed runs; MEDNER_THREADS=${process.env.MEDNER_THREADS ?? 'unset'})`);
console.log('| tags | medner NLL fwd+bwd | PyTorch NLL fwd+bwd | medner Viterbi | PyTorch Viterbi |');
console.log('| --- | --- | --- | --- | --- |');
const ratio = (a: number, b?: number) => (b ? ` (${(b / a).toFixed(2)}x)` : '');
for (const r of rows) console.log(`| ${r.tags} | ${round(r.medner.nll)}${ratio(r.medner.nll, r.torch?.nll)} | ${r.torch ? round(r.torch.nll) : 'n/a'} | ${round(r.medner.viterbi)}${ratio(r.medner.viterbi, r.torch?.viterbi)} | ${r.torch ? round(r.torch.viterbi) : 'n/a'} |`);
console.log('(x) = PyTorch time / medner time: above 1, medner is faster.');
writeJson('bench-results/crf-tags.json', { machine: machine(), versions: versions(), date: new Date().toISOString(), batch: B, steps: T, tokens, rows });
