// medner through its CLI beside the PyTorch reference, as a user runs both:
// `medner train` (with dev scoring each epoch), `medner eval` on the test set and
// `medner predict` on raw text, against ../shared/peers/ner_ref.py (training) and
// bench/torch_cli_peer.py (its model's forward + Viterbi for eval and predict).
//
//   npx tsx bench/cli-vs-torch.ts [--data <dir with train.tsv devel.tsv test.tsv>]
//       [--peer <ner_ref.py>] [--epochs 10] [--quick] [--skip-best] [--skip-one-core]
//       [--predict-sentences 10000] [--python /usr/bin/python3] [--out bench-results/cli-vs-torch]
//       [--from-source]
//
// Two settings:
//   one-core  medner `MEDNER_THREADS=1 taskset -c 0`, PyTorch `--threads 1` under `taskset -c 1`,
//             run side by side (both at once, one core each) for train, then eval, then predict;
//   best      each engine alone with both cores (medner's default worker threads, PyTorch
//             `--threads 2`), one after the other.
// --quick trains 1 epoch on the first 2,000 training sentences and predicts 2,000 texts: a
// smoke run of the script, not figures to report.
//
// Writes <out>.json (every run: wall, peak RSS, the epoch records) and <out>.md (the table the
// README shows) and prints the table. Peak RSS comes from GNU time (/usr/bin/time -f %M).
// Run on an otherwise idle machine: figures from a loaded machine are not comparable.

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const opt = (name: string, fallback: string): string => (argv.includes(name) ? argv[argv.indexOf(name) + 1]! : fallback);
const has = (name: string): boolean => argv.includes(name);

const quick = has('--quick');
const dataDir = resolve(opt('--data', join(root, '../shared/data/bc5cdr/iob')));
const peer = resolve(opt('--peer', join(root, '../shared/peers/ner_ref.py')));
const python = opt('--python', '/usr/bin/python3');
const epochs = Number(opt('--epochs', quick ? '1' : '10'));
const predictCount = Number(opt('--predict-sentences', quick ? '2000' : '10000'));
const outBase = resolve(opt('--out', join(root, 'bench-results', quick ? 'cli-vs-torch-quick' : 'cli-vs-torch')));
const work = resolve(opt('--work', join(root, 'bench-results', '.cli-vs-torch')));
// The reference sizes: word 100 + char-CNN (25-dim chars, 25 filters as ner_ref.py's model A) + BiLSTM 100/dir + CRF.
const sizes = { wordDim: 100, lstmHidden: 100, charDim: 25, charFilters: 25 };
const batch = 32;

const gnuTime = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
for (const f of ['train.tsv', 'devel.tsv', 'test.tsv']) {
  if (!existsSync(join(dataDir, f))) throw new Error(`${join(dataDir, f)}: missing; --data needs a directory with train.tsv, devel.tsv and test.tsv (CoNLL)`);
}
// The load average beside every figure: a shared machine's other jobs slow both engines, unequally.
const loadAtStart = loadavg();
const torchOk = existsSync(python) && existsSync(peer) && (await run('torch check', [python, '-c', 'import torch'], {})).code === 0;
if (!torchOk) console.log(`PyTorch peer unavailable (${python} with torch, ${peer}): medner rows only`);

// ---- inputs: the corpus (a slice of it with --quick), the raw text for predict ----
rmSync(work, { recursive: true, force: true });
mkdirSync(join(work, 'data'), { recursive: true });
const sentencesOf = (text: string) => text.split(/\n\s*\n/).map((s) => s.trim()).filter(Boolean);
const files: Record<string, string> = {};
for (const [name, limit] of [['train.tsv', 2000], ['devel.tsv', 500], ['test.tsv', 500]] as const) {
  const sentences = sentencesOf(readFileSync(join(dataDir, name), 'utf8'));
  writeFileSync(join(work, 'data', name), (quick ? sentences.slice(0, limit) : sentences).join('\n\n') + '\n');
  files[name] = join(work, 'data', name);
}
const testSentences = sentencesOf(readFileSync(files['test.tsv']!, 'utf8')).map((s) => s.split('\n').map((l) => l.split('\t')[0]!));
const testCount = testSentences.length;
const rawText = Array.from({ length: predictCount }, (_, i) => testSentences[i % testSentences.length]!.join(' ')).join('\n') + '\n';
writeFileSync(join(work, 'predict.txt'), rawText);
writeFileSync(join(work, 'config.json'), JSON.stringify(sizes) + '\n');

// ---- running a command: wall time, peak RSS, output ----
interface RunResult { code: number; wall: number; rssMb: number | null; cpu: number | null; stdout: string; stderr: string }
function run(label: string, command: string[], env: Record<string, string | undefined>, cpu?: string): Promise<RunResult> {
  const rssFile = join(work, `${label.replace(/\W+/g, '-')}.rss`);
  let cmd = command;
  // GNU time: peak RSS, and the process's CPU seconds (user + sys), which a loaded machine inflates far less than wall time.
  if (gnuTime && existsSync(work)) cmd = [gnuTime, '-f', '%M %U %S', '-o', rssFile, ...cmd];
  if (cpu !== undefined) cmd = ['taskset', '-c', cpu, ...cmd];
  const started = performance.now();
  return new Promise((done) => {
    const child = spawn(cmd[0]!, cmd.slice(1), { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => {
      const wall = (performance.now() - started) / 1000;
      let rssMb: number | null = null;
      let cpu: number | null = null;
      if (existsSync(rssFile)) {
        const [kb, user, sys] = readFileSync(rssFile, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number);
        if (Number.isFinite(kb)) rssMb = kb! / 1024;
        if (Number.isFinite(user) && Number.isFinite(sys)) cpu = user! + sys!;
      }
      if (code !== 0 && label !== 'torch check') console.error(`${label}: exit ${code}\n${stderr.slice(-2000)}`);
      done({ code: code ?? 1, wall, rssMb, cpu, stdout, stderr });
    });
  });
}

// The binary an npm user runs (dist/cli/main.js, built here first); --from-source runs src/ through tsx instead.
if (!has('--from-source')) {
  console.log('building dist/ (npm run build) ...');
  const built = await run('build', ['npm', 'run', 'build', '--silent'], {});
  if (built.code !== 0) throw new Error('npm run build failed; --from-source runs the TypeScript sources instead');
}
const medner = [process.execPath, join(root, has('--from-source') ? 'src/cli/bin.js' : 'dist/cli/main.js')];
const oneCoreEnv = { MEDNER_THREADS: '1' };

interface TrainFigures { wall: number; rssMb: number | null; cpu: number | null; trainSeconds: number; devSeconds: number; tokensPerSecond: number; devSentencesPerSecond: number; testF1: number | null; epochs: number }

async function mednerTrain(tag: string, env: Record<string, string>, cpu?: string): Promise<TrainFigures | null> {
  const out = join(work, `medner-${tag}`);
  const r = await run(`medner train ${tag}`, [...medner, 'train', '--train', files['train.tsv']!, '--dev', files['devel.tsv']!, '--test', files['test.tsv']!,
    '--config', join(work, 'config.json'), '--epochs', String(epochs), '--batch-size', String(batch), '--patience', String(epochs + 1), '--out', out, '--overwrite', '--no-progress'], env, cpu);
  if (r.code !== 0) return null;
  const records = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
  const ep = records.filter((x) => 'epoch' in x);
  const test = records.find((x) => (x as unknown as { split?: string }).split === 'test');
  const trainSeconds = ep.reduce((s, x) => s + x.seconds!, 0);
  const devSeconds = ep.reduce((s, x) => s + (x.dev_seconds ?? 0), 0);
  const tokens = ep.reduce((s, x) => s + x.tokens_per_second! * x.seconds!, 0);
  const devSentences = ep.reduce((s, x) => s + (x.dev_sentences_per_second ?? 0) * (x.dev_seconds ?? 0), 0);
  return { wall: r.wall, rssMb: r.rssMb, cpu: r.cpu, trainSeconds, devSeconds, tokensPerSecond: tokens / trainSeconds, devSentencesPerSecond: devSentences / devSeconds, testF1: test?.f1 ?? null, epochs: ep.length };
}

async function torchTrain(tag: string, threads: number, cpu?: string): Promise<TrainFigures | null> {
  if (!torchOk) return null;
  const json = join(work, `torch-${tag}.json`);
  const r = await run(`torch train ${tag}`, [python, peer, '--model', 'A', '--data', join(work, 'data'), '--epochs', String(epochs), '--batch', String(batch), '--threads', String(threads), '--time-cap-min', '1000', '--out', json], {}, cpu);
  if (r.code !== 0) return null;
  const s = JSON.parse(readFileSync(json, 'utf8')) as { history: { train_s: number; dev_infer_s: number; train_tok_per_s: number; dev_infer_sent_per_s: number }[]; best: { test_f1: number } };
  const trainSeconds = s.history.reduce((a, h) => a + h.train_s, 0);
  const devSeconds = s.history.reduce((a, h) => a + h.dev_infer_s, 0);
  const tokens = s.history.reduce((a, h) => a + h.train_tok_per_s * h.train_s, 0);
  const devSentences = s.history.reduce((a, h) => a + h.dev_infer_sent_per_s * h.dev_infer_s, 0);
  return { wall: r.wall, rssMb: r.rssMb, cpu: r.cpu, trainSeconds, devSeconds, tokensPerSecond: tokens / trainSeconds, devSentencesPerSecond: devSentences / devSeconds, testF1: s.best.test_f1, epochs: s.history.length };
}

interface TagFigures { wall: number; rssMb: number | null; cpu: number | null; sentences: number; seconds: number | null; f1: number | null }

async function mednerEval(model: string, tag: string, env: Record<string, string>, cpu?: string): Promise<TagFigures | null> {
  const r = await run(`medner eval ${tag}`, [...medner, 'eval', '--model', model, '--data', files['test.tsv']!, '--json'], env, cpu);
  if (r.code !== 0) return null;
  const j = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { micro: { f1: number }; sentences: number; seconds?: number };
  return { wall: r.wall, rssMb: r.rssMb, cpu: r.cpu, sentences: j.sentences, seconds: j.seconds ?? null, f1: j.micro.f1 };
}

async function mednerPredict(model: string, tag: string, env: Record<string, string>, cpu?: string): Promise<TagFigures | null> {
  const r = await run(`medner predict ${tag}`, [...medner, 'predict', '--model', model, '--input', join(work, 'predict.txt'), '--out', join(work, `medner-${tag}.jsonl`)], env, cpu);
  if (r.code !== 0) return null;
  return { wall: r.wall, rssMb: r.rssMb, cpu: r.cpu, sentences: predictCount, seconds: null, f1: null };
}

async function torchTag(mode: 'eval' | 'predict', tag: string, threads: number, cpu?: string): Promise<TagFigures | null> {
  if (!torchOk) return null;
  const input = mode === 'eval' ? files['test.tsv']! : join(work, 'predict.txt');
  const r = await run(`torch ${mode} ${tag}`, [python, join(root, 'bench/torch_cli_peer.py'), mode, '--peer', peer, '--train', files['train.tsv']!, '--input', input,
    '--out', join(work, `torch-${tag}.jsonl`), '--threads', String(threads), '--word-dim', String(sizes.wordDim), '--char-dim', String(sizes.charDim), '--char-filters', String(sizes.charFilters), '--hidden', String(sizes.lstmHidden)], {}, cpu);
  if (r.code !== 0) return null;
  const j = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { sentences: number; seconds: number };
  return { wall: r.wall, rssMb: r.rssMb, cpu: r.cpu, sentences: j.sentences, seconds: j.seconds, f1: null };
}

// ---- the runs ----
interface Setting { name: string; train: [TrainFigures | null, TrainFigures | null]; eval: [TagFigures | null, TagFigures | null]; predict: [TagFigures | null, TagFigures | null] }
const settings: Setting[] = [];

if (!has('--skip-one-core')) {
  console.log(`one core each, side by side: ${epochs} epoch(s) of training on ${dataDir}${quick ? ' (quick: a slice)' : ''} ...`);
  const train = await Promise.all([mednerTrain('1core', oneCoreEnv, '0'), torchTrain('1core', 1, '1')]);
  const model = join(work, 'medner-1core', 'best');
  const evalR = await Promise.all([mednerEval(model, '1core', oneCoreEnv, '0'), torchTag('eval', '1core', 1, '1')]);
  const predict = await Promise.all([mednerPredict(model, '1core', oneCoreEnv, '0'), torchTag('predict', '1core', 1, '1')]);
  settings.push({ name: 'one core each (side by side)', train, eval: evalR, predict });
}
if (!has('--skip-best')) {
  console.log('each engine alone on both cores ...');
  const m = await mednerTrain('best', {});
  const t = await torchTrain('best', 2);
  const model = join(work, existsSync(join(work, 'medner-best', 'best')) ? 'medner-best' : 'medner-1core', 'best');
  const me = await mednerEval(model, 'best', {});
  const te = await torchTag('eval', 'best', 2);
  const mp = await mednerPredict(model, 'best', {});
  const tp = await torchTag('predict', 'best', 2);
  settings.push({ name: 'best of each (medner 2 worker threads, PyTorch 2 threads, one at a time)', train: [m, t], eval: [me, te], predict: [mp, tp] });
}

// ---- the table ----
const f = (x: number | null | undefined, digits = 0) => (x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }));
const mmss = (s: number | null | undefined) => {
  if (s == null) return 'n/a';
  const whole = Math.round(s); // round once, so 719.6 s is 12:00, not 11:60
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, '0')}`;
};
const ratio = (a: number | null | undefined, b: number | null | undefined) => (a && b ? `${(a / b).toFixed(2)}x` : 'n/a');
const lines: string[] = [];
const machine = `${cpus()[0]?.model ?? 'cpu'}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
lines.push(`Load average (1, 5, 15 min) at the start ${load(loadAtStart)}, at the end ${load(loadavg())}.`, '');
lines.push(`Machine: ${machine}. Data: ${dataDir}${quick ? ' (--quick: 2,000 training sentences, 1 epoch; a smoke run)' : ''}. ${epochs} epochs, batch ${batch}, ${JSON.stringify(sizes)}; ${new Date().toISOString()}.`, '');
for (const s of settings) {
  const [mt, tt] = s.train;
  lines.push(`### ${s.name}`, '');
  lines.push('| run | medner | PyTorch | medner / PyTorch |', '| --- | --- | --- | --- |');
  lines.push(`| train: wall time (process, ${epochs} epochs, dev scored each epoch${torchOk ? '; PyTorch also scores test each epoch' : ''}) | ${mmss(mt?.wall)} | ${mmss(tt?.wall)} | ${ratio(tt?.wall, mt?.wall)} speed |`);
  lines.push(`| train: CPU seconds (user + sys, whole process) | ${f(mt?.cpu)} | ${f(tt?.cpu)} | ${ratio(tt?.cpu, mt?.cpu)} speed |`);
  lines.push(`| train: training steps + dev scoring, seconds | ${f(mt && mt.trainSeconds + mt.devSeconds)} | ${f(tt && tt.trainSeconds + tt.devSeconds)} | ${ratio(tt && tt.trainSeconds + tt.devSeconds, mt && mt.trainSeconds + mt.devSeconds)} speed |`);
  lines.push(`| train: training tokens/s (steps only) | ${f(mt?.tokensPerSecond)} | ${f(tt?.tokensPerSecond)} | ${ratio(mt?.tokensPerSecond, tt?.tokensPerSecond)} |`);
  lines.push(`| train: dev scoring sentences/s | ${f(mt?.devSentencesPerSecond)} | ${f(tt?.devSentencesPerSecond)} | ${ratio(mt?.devSentencesPerSecond, tt?.devSentencesPerSecond)} |`);
  lines.push(`| train: test F1 (best dev epoch) | ${f(mt?.testF1, 4)} | ${f(tt?.testF1, 4)} | |`);
  lines.push(`| train: peak RSS, MB | ${f(mt?.rssMb)} | ${f(tt?.rssMb)} | ${ratio(mt?.rssMb, tt?.rssMb)} |`);
  const [me, te] = s.eval;
  lines.push(`| eval (${f(me?.sentences ?? te?.sentences)} test sentences): sentences/s, whole process | ${f(me && me.sentences / me.wall)} | ${f(te && te.sentences / te.wall)} | ${ratio(me && me.sentences / me.wall, te && te.sentences / te.wall)} |`);
  lines.push(`| eval: sentences/s of the tagging (load and start-up excluded) | ${f(me?.seconds ? me.sentences / me.seconds : null)} | ${f(te?.seconds ? te.sentences / te.seconds : null)} | ${ratio(me?.seconds ? me.sentences / me.seconds : null, te?.seconds ? te.sentences / te.seconds : null)} |`);
  lines.push(`| eval: sentences per CPU second (user + sys, whole process) | ${f(me?.cpu ? me.sentences / me.cpu : null)} | ${f(te?.cpu ? te.sentences / te.cpu : null)} | ${ratio(me?.cpu ? me.sentences / me.cpu : null, te?.cpu ? te.sentences / te.cpu : null)} |`);
  lines.push(`| eval: peak RSS, MB | ${f(me?.rssMb)} | ${f(te?.rssMb)} | ${ratio(me?.rssMb, te?.rssMb)} |`);
  const [mp, tp] = s.predict;
  lines.push(`| predict (${f(predictCount)} raw-text lines -> JSONL): sentences/s, whole process | ${f(mp && mp.sentences / mp.wall)} | ${f(tp && tp.sentences / tp.wall)} | ${ratio(mp && mp.sentences / mp.wall, tp && tp.sentences / tp.wall)} |`);
  lines.push(`| predict: sentences per CPU second (user + sys, whole process) | ${f(mp?.cpu ? mp.sentences / mp.cpu : null)} | ${f(tp?.cpu ? tp.sentences / tp.cpu : null)} | ${ratio(mp?.cpu ? mp.sentences / mp.cpu : null, tp?.cpu ? tp.sentences / tp.cpu : null)} |`);
  lines.push(`| predict: peak RSS, MB | ${f(mp?.rssMb)} | ${f(tp?.rssMb)} | ${ratio(mp?.rssMb, tp?.rssMb)} |`, '');
}
lines.push('PyTorch: `ner_ref.py --model A` (training; Adam, its own recipe) and `bench/torch_cli_peer.py` (eval/predict: the same model, forward + Viterbi in batches of 128; freshly initialized weights, so its eval F1 is not shown). "speed" ratios > 1 mean medner is faster.');
const table = lines.join('\n');
console.log('\n' + table);
mkdirSync(dirname(outBase), { recursive: true });
writeFileSync(`${outBase}.md`, table + '\n');
writeFileSync(`${outBase}.json`, JSON.stringify({ machine, loadAtStart, loadAtEnd: loadavg(), date: new Date().toISOString(), dataDir, quick, epochs, batch, sizes, predictCount, testCount, settings }, null, 2) + '\n');
console.log(`\nwrote ${outBase}.md and ${outBase}.json`);
