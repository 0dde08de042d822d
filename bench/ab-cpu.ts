// Two checkouts of medner, alternating in one process: the same BiLSTM-CRF training steps (same
// seed, same batches) and the same dev tagging, CPU time per call for each. Alternating call by call
// cancels most of the drift of a shared machine, so small differences show where wall-clock runs
// drown them; the last losses printed show both versions compute the same model.
//
//   git worktree add /tmp/medner-before <commit>; ln -s "$PWD/node_modules" /tmp/medner-before/
//   MEDNER_THREADS=1 npx tsx bench/ab-cpu.ts /tmp/medner-before . <train.tsv> <dev.tsv> [steps]
//
// (reference sizes: word 100, char 25 x 25 filters, BiLSTM 100/dir, batch 32; a slice of BC5CDR does)
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [rootA, rootB, trainPath, devPath, stepsArg] = process.argv.slice(2);
if (!rootA || !rootB || !trainPath || !devPath) throw new Error('usage: bench/ab-cpu.ts <checkout A> <checkout B> <train.tsv> <dev.tsv> [steps]');
const steps = Number(stepsArg ?? 30);
async function setup(root: string) {
  const imp = (p: string) => import(pathToFileURL(resolve(root, 'src', p)).href);
  const { cpuBackend, setBackend } = await imp('backend/registry.ts');
  const { loadSentences } = await imp('train/corpus.ts');
  const { resolveConfig, defaultsFor } = await imp('train/config.ts');
  const { createModel } = await imp('train/model-factory.ts');
  const { buildWordVocabulary, buildCharVocabulary, buildLabelList } = await imp('train/vocab.ts');
  const { AdamW } = await imp('optim/adamw.ts');
  const { trainingStep } = await imp('train/step.ts');
  const { tagSentences } = await imp('train/evaluate.ts');
  const { manualSeed } = await imp('tensor/random.ts');
  const { chunkSentences } = await imp('train/encode.ts');
  setBackend(cpuBackend);
  manualSeed(1);
  const config = resolveConfig({ wordDim: 100, lstmHidden: 100, charDim: 25, charFilters: 25, batchSize: 32 }, 'ab', defaultsFor('bilstm-crf'));
  const train = await loadSentences(trainPath, 'conll', 'BIO');
  const dev = await loadSentences(devPath, 'conll', 'BIO');
  const labels = buildLabelList(train.sentences);
  const vocabulary = { kind: 'words', words: buildWordVocabulary(train.sentences, 1, false), chars: buildCharVocabulary(train.sentences) };
  const { model, encoder } = createModel(config, vocabulary, labels, null);
  const named = model.namedParameters();
  const optimizer = new AdamW([{ name: 'head', params: named, lr: 1e-2 }], { lr: 1e-2, weightDecay: 0.01 });
  const ctx = { model, encoder, labelIndex: new Map(labels.map((l: string, i: number) => [l, i])), backend: cpuBackend, params: named, optimizer, clip: 5 };
  const chunks = chunkSentences(train.sentences, encoder);
  return {
    step: async (i: number) => { setBackend(cpuBackend); return trainingStep(ctx, chunks.slice(i * 32, i * 32 + 32)); },
    tag: async () => { setBackend(cpuBackend); model.eval(); await tagSentences(model, encoder, labels, dev.sentences, cpuBackend); model.train(); },
  };
}
const A = await setup(rootA!);
const B = await setup(rootB!);
const t = { A: { step: 0, tag: 0 }, B: { step: 0, tag: 0 } };
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
await A.step(0); await B.step(0);
for (let i = 1; i <= steps; i++) {
  for (const [name, m] of [['A', A], ['B', B]] as const) {
    const c0 = cpu(); const loss = await m.step(i); t[name].step += cpu() - c0;
    if (i === steps) console.log(name, 'last loss', loss);
  }
}
for (let r = 0; r < 3; r++) for (const [name, m] of [['A', A], ['B', B]] as const) { const c0 = cpu(); await m.tag(); t[name].tag += cpu() - c0; }
console.log(`CPU ms per training step: A ${(t.A.step / steps).toFixed(1)}  B ${(t.B.step / steps).toFixed(1)}  B/A ${(t.B.step / t.A.step).toFixed(3)}`);
console.log(`CPU ms per dev tagging pass: A ${(t.A.tag / 3).toFixed(0)}  B ${(t.B.tag / 3).toFixed(0)}  B/A ${(t.B.tag / t.A.tag).toFixed(3)}`);
