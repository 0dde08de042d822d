// Tagging at PubMed scale: documents/s, sentences/s and peak RSS of `medner predict` on PubMed-like
// abstracts (the titles and abstracts of the given PubTator corpora, repeated under new ids), with 1 and 2
// processes (`--shard i/P`, one core each: MEDNER_THREADS=1), at several input sizes (peak RSS should not
// grow with the input), and the CPU-hours that 36 M abstracts would take at the measured rate.
//
//   npx tsx bench/predict-corpus.bench.ts --data /path/to/bc5cdr/pubtator [--data /path/to/ncbi-disease/original]
//       [--sizes 1000,10000,100000] [--processes 1,2] [--model <checkpoint dir>] [--batch-size 64] [--keep <dir>]
//
// --data takes PubTator files or directories of them (every file whose first line is `PMID|t|...`).
// Without --model, the default BiLSTM-CRF is trained for one epoch on the bundled sample (its speed does not
// depend on how well it is trained). Each run is the real CLI in child processes, gzip in and out, as a
// cluster job would run it; the figures come from each child's own summary line (time after the model is
// loaded) and from the wall clock of the whole run (start-up included).

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { parsePubtator } from '../src/data/pubtator.js';
import { looksLikePubtator } from '../src/data/formats.js';
import { args, option, round, versions } from './lib/harness.js';
import { machine, printTable, writeJson, type Row } from './lib/report.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const bin = join(root, 'src/cli/bin.js');
const PUBMED_ABSTRACTS = 36e6;

const dataPaths = args.flatMap((a, i) => (a === '--data' ? [args[i + 1]!] : []));
if (dataPaths.length === 0) {
  console.error('usage: npx tsx bench/predict-corpus.bench.ts --data <PubTator file or directory> [--data ...] [--sizes 1000,10000] [--processes 1,2] [--model dir]');
  process.exit(2);
}
const sizes = option('--sizes', '1000,10000').split(',').map(Number);
const processCounts = option('--processes', '1,2').split(',').map(Number);
const batchSize = option('--batch-size', '64');
const work = option('--keep', '') || mkdtempSync(join(tmpdir(), 'medner-predict-bench-'));

/** Titles and abstracts of every PubTator file under the given paths. */
function readAbstracts(): { id: string; title: string; abstract: string }[] {
  const files = dataPaths.flatMap((p) => (statSync(p).isDirectory() ? readdirSync(p).sort().map((f) => join(p, f)) : [p]));
  const docs = files.flatMap((file) => {
    const text = readFileSync(file, 'utf8');
    return looksLikePubtator(text.slice(0, 4096)) ? parsePubtator(text, file).map((d) => ({ id: d.id, title: d.title, abstract: d.abstract })) : [];
  });
  // The same abstract can be in two corpora's files; keep one of each.
  const unique = [...new Map(docs.map((d) => [d.id, d])).values()];
  if (unique.length === 0) throw new Error(`no PubTator documents under ${dataPaths.join(', ')}`);
  return unique;
}

/** n abstracts as JSONL, gzipped: {"id": "<PMID>.<copy>", "title", "text": title + " " + abstract}. */
async function writeCorpus(abstracts: ReturnType<typeof readAbstracts>, n: number): Promise<{ path: string; characters: number }> {
  const lines: string[] = [];
  let characters = 0;
  for (let i = 0; i < n; i++) {
    const d = abstracts[i % abstracts.length]!;
    const text = `${d.title} ${d.abstract}`;
    characters += text.length;
    lines.push(JSON.stringify({ id: `${d.id}.${Math.floor(i / abstracts.length)}`, title: d.title, text }));
  }
  const path = join(work, `abstracts-${n}.jsonl.gz`);
  await writeFile(path, gzipSync(lines.join('\n') + '\n'));
  return { path, characters };
}

function trainDefaultModel(): string {
  const out = join(work, 'model');
  const r = spawnSync(process.execPath, [bin, 'train', '--epochs', '1', '--no-progress', '--out', out], { cwd: root, encoding: 'utf8', env: { ...process.env, MEDNER_BACKEND: 'cpu' } });
  if (r.status !== 0) throw new Error(`training the default model failed:\n${r.stderr}`);
  return join(out, 'best');
}

interface ChildSummary {
  tagged: number;
  sentences: number;
  seconds: number;
  cpuSeconds: number;
  rssMB: number;
}

/** P processes, shard i of P each, at once; their summaries and the wall time of the whole run. */
async function runShards(model: string, input: string, processes: number, tag: string): Promise<{ wall: number; children: ChildSummary[] }> {
  const started = performance.now();
  const children = await Promise.all(
    Array.from({ length: processes }, (_, i) =>
      new Promise<ChildSummary>((resolve, reject) => {
        const argv = [bin, 'predict', '--model', model, '--input', input, '--format', 'jsonl', '--batch-size', batchSize, '--shard', `${i}/${processes}`, '--out', join(work, `out-${tag}-${i}.jsonl.gz`)];
        const child = spawn(process.execPath, argv, { cwd: root, env: { ...process.env, MEDNER_BACKEND: 'cpu', MEDNER_THREADS: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('exit', (code) => {
          const m = /tagged (\d+) of \d+ documents \((\d+) sentences\) in ([\d.]+) s \(CPU ([\d.]+) s\);.* peak RSS (\d+) MB/.exec(stderr);
          if (code !== 0 || !m) reject(new Error(`predict shard ${i}/${processes} failed (${code}):\n${stderr}`));
          else resolve({ tagged: Number(m[1]), sentences: Number(m[2]), seconds: Number(m[3]), cpuSeconds: Number(m[4]), rssMB: Number(m[5]) });
        });
      }),
    ),
  );
  return { wall: (performance.now() - started) / 1000, children };
}

const model = option('--model', '') || trainDefaultModel();
const abstracts = readAbstracts();
console.log(`${abstracts.length} distinct abstracts from ${dataPaths.join(', ')}; model ${model}; batch ${batchSize}; work dir ${work}`);
const rows: Row[] = [];
for (const n of sizes) {
  const corpus = await writeCorpus(abstracts, n);
  for (const p of processCounts) {
    const { wall, children } = await runShards(model, corpus.path, p, `${n}-${p}`);
    const docs = children.reduce((a, c) => a + c.tagged, 0);
    const sentences = children.reduce((a, c) => a + c.sentences, 0);
    // Per process: its own documents over its own tagging time; together: all documents over the wall clock
    // (start-up and model load included). CPU-hours from CPU time, which other load on the machine changes
    // far less than wall time.
    const cpu = children.reduce((a, c) => a + c.cpuSeconds, 0);
    rows.push({
      name: `${n} abstracts, ${p} process${p > 1 ? 'es' : ''}`,
      'docs/s per process': round(children.reduce((a, c) => a + c.tagged / c.seconds, 0) / p, 1),
      'sentences/s per process': round(children.reduce((a, c) => a + c.sentences / c.seconds, 0) / p, 1),
      'docs/s all (wall)': round(docs / wall, 1),
      'docs per CPU-s': round(docs / cpu, 1),
      'peak RSS MB (max)': Math.max(...children.map((c) => c.rssMB)),
      'wall s': round(wall, 1),
      'CPU-h for 36 M': Math.round(PUBMED_ABSTRACTS / (docs / cpu) / 3600),
    });
    printTable('medner predict on PubMed-like abstracts (MEDNER_THREADS=1 per process)', rows);
  }
}
writeJson(join(root, 'bench-results', `predict-corpus-${new Date().toISOString().replace(/[:.]/g, '-')}.json`), {
  bench: 'predict-corpus',
  machine: machine(),
  versions: versions(),
  date: new Date().toISOString(),
  data: dataPaths,
  abstracts: abstracts.length,
  model,
  batchSize: Number(batchSize),
  rows,
});
