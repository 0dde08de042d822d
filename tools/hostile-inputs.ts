// Hostile inputs, generated on the fly in a temporary directory, and `medner` run on them with its peak memory
// measured: a one-token-per-line file to `convert` (with and without blank lines between sentences), a
// single-line text with no sentence end to `predict`, a 20,000-word sentence to `train`. test/reliability runs
// CI-sized variants; the full sizes of the README table come from
//
//   npx tsx tools/hostile-inputs.ts --convert-bytes 1G --predict-bytes 10M
//
// (prints one line per case: exit code, seconds, peak RSS, the last line of stderr).

import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** About `bytes` bytes of `block` repeated (1 MB blocks: fast even for gigabytes). */
function writeRepeated(path: string, bytes: number, block: string): void {
  const fd = openSync(path, 'w');
  try {
    const chunk = Buffer.from(block);
    let written = 0;
    while (written + chunk.length <= bytes) written += writeSync(fd, chunk);
    // The rest: up to a line break (or, in a single line, a space), so no token is cut.
    const rest = bytes - written - 1;
    if (rest >= 0) writeSync(fd, chunk.subarray(0, Math.max(chunk.lastIndexOf(10, rest), chunk.lastIndexOf(32, rest)) + 1));
  } finally {
    closeSync(fd);
  }
}

/**
 * One token per line, CoNLL style (`token<TAB>tag`), about `bytes` long. `sentenceLength` tokens per sentence
 * with a blank line after each, or none at all (one endless sentence) when it is 0.
 */
export function writeOneTokenPerLine(path: string, bytes: number, sentenceLength: number): void {
  let block = '';
  for (let i = 0; block.length < 1 << 20; i++) {
    block += i % 7 === 3 ? `aspirin${i % 100}\tB-Chemical\n` : `word${i % 1000}\tO\n`;
    if (sentenceLength > 0 && (i + 1) % sentenceLength === 0) block += '\n';
  }
  // Whole sentences per block, so the repeats keep the sentence length.
  if (sentenceLength > 0) block = block.slice(0, block.lastIndexOf('\n\n') + 2);
  writeRepeated(path, bytes, block);
}

/** One line of words with no sentence end and no line break: the whole input is one sentence. */
export function writeSingleLineText(path: string, bytes: number): void {
  const words = Array.from({ length: 200_000 }, (_, i) => (i % 11 === 5 ? 'aspirin' : i % 13 === 7 ? 'pain' : `w${i % 997}`)).join(' ');
  writeRepeated(path, bytes, words + ' ');
}

/** A small corpus with one sentence of `words` words among ordinary ones. */
export function longSentenceCorpus(words: number): string {
  const normal = 'Aspirin\tB-Chemical\ncauses\tO\nchest\tB-Disease\npain\tI-Disease\n.\tO\n\n'.repeat(10);
  const long = Array.from({ length: words }, (_, i) => (i % 9 === 4 ? 'aspirin\tB-Chemical' : i % 17 === 8 ? 'pain\tB-Disease' : `word${i % 500}\tO`)).join('\n');
  return `${normal}${long}\n\n${normal}`;
}

/** A BiLSTM-CRF small enough to train in seconds: the cases measure the data path, not the model. */
export const TINY_MODEL = { epochs: 1, batchSize: 8, wordDim: 16, charDim: 8, charFilters: 8, lstmHidden: 16 };

export interface MeasuredRun {
  code: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
  /** Peak resident set size in MiB, from the process itself (null if it died without running its exit hook). */
  peakMiB: number | null;
}

/** Run `medner ...args` with the V8 heap capped at `heapMiB`, measuring its peak RSS. */
export function runMedner(args: string[], heapMiB: number): Promise<MeasuredRun> {
  const dir = mkdtempSync(join(tmpdir(), 'medner-rss-'));
  const rssFile = join(dir, 'rss');
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [`--max-old-space-size=${heapMiB}`, '--import', join(ROOT, 'tools/peak-rss.mjs'), join(ROOT, 'src/cli/bin.js'), ...args], {
      env: { ...process.env, MEDNER_PEAK_RSS_FILE: rssFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      let peakMiB: number | null = null;
      try {
        peakMiB = Math.round(Number(readFileSync(rssFile, 'utf8')) / 1024);
      } catch {
        // killed before its exit hook: no figure
      }
      rmSync(dir, { recursive: true, force: true });
      resolve({ code, stdout, stderr, seconds: (performance.now() - started) / 1000, peakMiB });
    });
  });
}

function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)([KMG]?)$/i.exec(text);
  if (!match) throw new Error(`bad size '${text}' (e.g. 50M, 1G)`);
  return Math.round(Number(match[1]) * { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[match[2]!.toUpperCase() as '' | 'K' | 'M' | 'G']);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const option = (name: string, fallback: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1]! : fallback;
  };
  const convertBytes = parseSize(option('--convert-bytes', '1G'));
  const predictBytes = parseSize(option('--predict-bytes', '10M'));
  const heap = Number(option('--heap-mib', '512'));
  const dir = mkdtempSync(join(tmpdir(), 'medner-hostile-'));
  const show = (name: string, r: MeasuredRun) => console.log(`${name}: exit ${r.code}, ${r.seconds.toFixed(1)} s, peak RSS ${r.peakMiB ?? '?'} MiB; ${r.stderr.trim().split('\n').pop() ?? ''}`);
  try {
    const model = join(dir, 'model');
    const corpus = join(dir, 'long.tsv');
    writeSyncFile(corpus, longSentenceCorpus(20_000));
    writeSyncFile(join(dir, 'config.json'), JSON.stringify(TINY_MODEL));
    show('train, one 20,000-word sentence', await runMedner(['train', '--train', corpus, '--config', join(dir, 'config.json'), '--out', model, '--no-progress'], heap));
    const text = join(dir, 'one-line.txt');
    writeSingleLineText(text, predictBytes);
    show(`predict, a ${option('--predict-bytes', '10M')} single line`, await runMedner(['predict', '--model', model, '--input', text, '--out', join(dir, 'pred.jsonl')], heap));
    rmSync(text);
    for (const sentenceLength of [20, 0]) {
      const input = join(dir, 'tokens.conll');
      writeOneTokenPerLine(input, convertBytes, sentenceLength);
      show(`convert, ${option('--convert-bytes', '1G')} one token per line, ${sentenceLength ? `blank line every ${sentenceLength}` : 'no blank line'}`, await runMedner(['convert', '--from', 'conll', '--to', 'jsonl', input, join(dir, 'out.jsonl')], heap));
      rmSync(input);
      rmSync(join(dir, 'out.jsonl'), { force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function writeSyncFile(path: string, text: string): void {
  const fd = openSync(path, 'w');
  writeSync(fd, text);
  closeSync(fd);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
