// One BERT-style encoder layer training step, medner beside tfjs, one core:
// post-LN layer (self-attention, residual + LayerNorm, GELU FFN 4x, residual + LayerNorm),
// a token-classification head (Linear to 5 tags, mean cross-entropy over all tokens) and
// AdamW (lr 1e-3, weight decay 0.01) over every weight; batch 16 x 64 tokens, hidden 128
// (2 heads) and 256 (4 heads); dropout off in both (identical work, no RNG cost).
// The input is a fixed [16, 64, H] tensor (what an embedding layer would give).
//
// tfjs is built from its own ops (matMul with its transpose flags, softmax, erf, moments
// by mean/square, variableGrads, AdamW written with assign): tfjs has no fused BERT layer,
// so this is what a user writing the model in tfjs gets. Weights are [in, out], tfjs's
// natural layout; medner's Linear keeps torch's [out, in] and multiplies transposed.
// Engines, each in its own child process:
//   medner-cpu     MEDNER_THREADS=1 (one core; the matmul is the WASM SIMD kernel where present)
//   medner-webgpu  kernels/*.wgsl on the adapter createWebGpuBackend finds (llvmpipe here)
//   tfjs-cpu       @tensorflow/tfjs-backend-cpu (plain JS, one thread)
//   tfjs-wasm      @tensorflow/tfjs-backend-wasm (XNNPACK with SIMD; one thread in Node)
//   tfjs-webgpu    @tensorflow/tfjs-backend-webgpu on the same Dawn adapter, through a
//                  navigator.gpu shim over the `webgpu` package
// tfjs is loaded by dynamic import from bench/peers/node_modules (--peers <dir>, or
// MEDNER_PEERS); an engine that is not installed is reported as skipped.
//
// Usage: npx tsx bench/tfjs-bert-layer.ts [--hidden 128,256] [--engines medner-cpu,...]
//          [--steps N] [--peers bench/peers] [--out bench-results/tfjs-bert-layer.json]

import { existsSync, readFileSync } from 'node:fs';
import { buildSync } from 'esbuild';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { randn, tensor } from '../src/tensor/tensor.js';
import { tidy } from '../src/tensor/scope.js';
import { manualSeed } from '../src/tensor/random.js';
import { crossEntropy, reshape } from '../src/ops/index.js';
import { BertLayer } from '../src/nn/bert.js';
import { encoderConfig } from '../src/nn/encoder-config.js';
import { Linear } from '../src/nn/linear.js';
import { AdamW } from '../src/optim/adamw.js';
import { machine, printTable, writeJson, type Row } from './lib/report.js';
import { emitResult, flag, openBackend, option, round, runChild, timeSteps, versions } from './lib/harness.js';

const BATCH = 16;
const TOKENS = 64;
const TAGS = 5;
const LR = 1e-3;
const WEIGHT_DECAY = 0.01;
const peersPath = resolve(process.env.MEDNER_PEERS ?? option('--peers', 'bench/peers'));
const ENGINES = ['medner-cpu', 'medner-webgpu', 'tfjs-cpu', 'tfjs-wasm', 'tfjs-webgpu'];

const headsOf = (hidden: number) => Math.max(2, hidden / 64);
/** Same targets in every engine: a fixed pattern over the 5 tags. */
const targets = () => Int32Array.from({ length: BATCH * TOKENS }, (_, i) => (i * 7 + (i >> 3)) % TAGS);

/** Steps to time: fewer on the slow engines at the larger width so a run stays within minutes. */
const stepsFor = (engine: string, hidden: number) => Number(option('--steps', String(engine === 'tfjs-cpu' || engine.endsWith('webgpu') ? (hidden > 128 ? 3 : 4) : hidden > 128 ? 5 : 8)));

// ---------------- medner ----------------

async function mednerStep(backendName: 'cpu' | 'webgpu', hidden: number): Promise<{ step: () => Promise<number>; adapter: string }> {
  const opened = await openBackend(backendName);
  manualSeed(0);
  const config = encoderConfig({ hiddenSize: hidden, numHeads: headsOf(hidden), intermediateSize: 4 * hidden, numLayers: 1, vocabSize: 100, hiddenDropout: 0, attentionDropout: 0 });
  const layer = new BertLayer(config);
  const head = new Linear(hidden, TAGS);
  const x = randn([BATCH, TOKENS, hidden]);
  const gold = tensor(targets(), [BATCH * TOKENS], { dtype: 'i32' });
  const named = [...layer.namedParameters('layer.'), ...head.namedParameters('head.')];
  const optimizer = new AdamW(named, { lr: LR, weightDecay: WEIGHT_DECAY });
  layer.train();
  const step = async () => {
    const loss = tidy(() => {
      const logits = head.forward(layer.forward(x, null));
      const l = crossEntropy(reshape(logits, [BATCH * TOKENS, TAGS]), gold);
      l.backward();
      return l;
    });
    tidy(() => {
      optimizer.step();
      return null;
    });
    optimizer.zeroGrad();
    const value = (await loss.data())[0]!;
    loss.dispose();
    return value;
  };
  return { step, adapter: opened.adapter };
}

// ---------------- tfjs ----------------

// The slice of tfjs's API used here (tfjs-core is loaded at run time, not type-checked against).
interface TfTensor {
  shape: number[];
  data(): Promise<Float32Array>;
  dispose(): void;
}
interface TfVariable extends TfTensor {
  assign(value: TfTensor): void;
}
/* eslint-disable @typescript-eslint/no-explicit-any */
type Tf = any;

const peerFile = (relative: string) => {
  const path = resolve(peersPath, 'node_modules', relative);
  return existsSync(path) ? path : null;
};
const peerVersion = (name: string) => (JSON.parse(readFileSync(resolve(peersPath, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;

/**
 * tfjs-core's Node bundle (tf-core.node.js) registers kernels but not gradients: the union
 * package @tensorflow/tfjs adds them with dist/register_all_gradients.js, an ES module with
 * extensionless and directory imports that Node cannot load. esbuild (here through tsx)
 * bundles it once into bench-results/.cache; its registerGradient calls reach the one global
 * registry and its ops the one global engine (tfjs keeps both on globalThis).
 */
function gradientsBundle(): string {
  const out = resolve('bench-results/.cache', `tfjs-gradients-${peerVersion('@tensorflow/tfjs-core')}.mjs`);
  if (!existsSync(out)) {
    buildSync({ entryPoints: [resolve(peersPath, 'node_modules/@tensorflow/tfjs-core/dist/register_all_gradients.js')], bundle: true, format: 'esm', platform: 'node', outfile: out, logLevel: 'error' });
  }
  return out;
}

/** tfjs-core with one backend, or null (and why) when it is not installed or does not start. */
async function loadTfjs(backend: 'cpu' | 'wasm' | 'webgpu'): Promise<{ tf: Tf; notes: string[] } | string> {
  const core = peerFile('@tensorflow/tfjs-core/dist/tf-core.node.js');
  const file = peerFile(`@tensorflow/tfjs-backend-${backend}/dist/tf-backend-${backend}.node.js`);
  if (!core || !file) return `tfjs-core or tfjs-backend-${backend} not under ${peersPath} (cd bench/peers && npm install)`;
  const notes: string[] = [`@tensorflow/tfjs-core ${peerVersion('@tensorflow/tfjs-core')}`, `@tensorflow/tfjs-backend-${backend} ${peerVersion(`@tensorflow/tfjs-backend-${backend}`)}`];
  if (backend === 'webgpu') {
    // Find the adapter as medner does (it sets EGL_PLATFORM and XDG_RUNTIME_DIR for Dawn's GL
    // backend), then give tfjs a navigator.gpu on the same kind of adapter.
    const { createWebGpuBackend } = await import('../src/backend/webgpu/index.js');
    const probe = await createWebGpuBackend();
    const dawn = await import('webgpu');
    Object.assign(globalThis, dawn.globals);
    const gl = probe.adapter.backend === 'opengles';
    const instance = dawn.create(gl ? ['backend=opengles'] : []);
    // On the GL backend an adapter request must say compatibility mode.
    const featureLevel = gl ? 'compatibility' : 'core';
    const gpuShim = {
      requestAdapter: (options: GPURequestAdapterOptions = {}) => instance.requestAdapter({ ...options, featureLevel }),
      getPreferredCanvasFormat: () => 'rgba8unorm',
      wgslLanguageFeatures: instance.wgslLanguageFeatures,
    };
    Object.defineProperty(globalThis, 'navigator', { value: { gpu: gpuShim, userAgent: 'node' }, configurable: true, writable: true });
    notes.push(`adapter ${probe.adapter.vendor} ${probe.adapter.description} (${probe.adapter.backend})`);
  }
  const tf = (await import(pathToFileURL(core).href)) as Tf;
  await import(pathToFileURL(file).href);
  await import(pathToFileURL(gradientsBundle()).href);
  notes.push('gradients: tfjs-core register_all_gradients, bundled by esbuild');
  const ok = await (tf.setBackend(backend) as Promise<boolean>).catch((e: unknown) => {
    notes.push(String(e));
    return false;
  });
  if (!ok) return `tfjs-backend-${backend} did not start: ${notes.join('; ')}`;
  await tf.ready();
  if (backend === 'wasm') {
    notes.push(`SIMD ${String(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'))}, multithreading ${String(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'))}`);
  }
  return { tf, notes };
}

function tfjsStep(tf: Tf, hidden: number): () => Promise<number> {
  const heads = headsOf(hidden);
  const size = hidden / heads;
  const N = BATCH * TOKENS;
  tf.randomNormal([1], 0, 1, 'float32', 0).dispose();
  const weight = (shape: number[], seed: number) => tf.variable(tf.randomNormal(shape, 0, 0.02, 'float32', seed)) as TfVariable;
  const constant = (shape: number[], value: number) => tf.variable(tf.fill(shape, value)) as TfVariable;
  const p = {
    wq: weight([hidden, hidden], 1), bq: constant([hidden], 0),
    wk: weight([hidden, hidden], 2), bk: constant([hidden], 0),
    wv: weight([hidden, hidden], 3), bv: constant([hidden], 0),
    wo: weight([hidden, hidden], 4), bo: constant([hidden], 0),
    g1: constant([hidden], 1), b1: constant([hidden], 0),
    wi: weight([hidden, 4 * hidden], 5), bi: constant([4 * hidden], 0),
    wf: weight([4 * hidden, hidden], 6), bf: constant([hidden], 0),
    g2: constant([hidden], 1), b2: constant([hidden], 0),
    wc: weight([hidden, TAGS], 7), bc: constant([TAGS], 0),
  };
  const vars = Object.values(p);
  const moments = vars.map((v) => ({ m: tf.variable(tf.zerosLike(v)) as TfVariable, v: tf.variable(tf.zerosLike(v)) as TfVariable }));
  const x = tf.randomNormal([N, hidden], 0, 1, 'float32', 8);
  const oneHot = tf.oneHot(tf.tensor1d(targets(), 'int32'), TAGS);
  const layerNorm = (h: TfTensor, g: TfTensor, b: TfTensor) => {
    const mean = tf.mean(h, -1, true);
    const centered = tf.sub(h, mean);
    const variance = tf.mean(tf.square(centered), -1, true);
    return tf.add(tf.mul(tf.mul(centered, tf.rsqrt(tf.add(variance, 1e-12))), g), b);
  };
  const gelu = (h: TfTensor) => tf.mul(tf.mul(h, 0.5), tf.add(tf.erf(tf.mul(h, Math.SQRT1_2)), 1));
  const linear = (h: TfTensor, w: TfTensor, b: TfTensor) => tf.add(tf.matMul(h, w), b);
  const headsView = (h: TfTensor) => tf.transpose(tf.reshape(h, [BATCH, TOKENS, heads, size]), [0, 2, 1, 3]); // [B, N, S, D]
  const loss = () => {
    const q = headsView(linear(x, p.wq, p.bq));
    const k = headsView(linear(x, p.wk, p.bk));
    const v = headsView(linear(x, p.wv, p.bv));
    const probs = tf.softmax(tf.div(tf.matMul(q, k, false, true), Math.sqrt(size)));
    const context = tf.reshape(tf.transpose(tf.matMul(probs, v), [0, 2, 1, 3]), [N, hidden]);
    const attended = layerNorm(tf.add(linear(context, p.wo, p.bo), x), p.g1, p.b1);
    const output = layerNorm(tf.add(linear(gelu(linear(attended, p.wi, p.bi)), p.wf, p.bf), attended), p.g2, p.b2);
    return tf.losses.softmaxCrossEntropy(oneHot, linear(output, p.wc, p.bc));
  };
  let t = 0;
  const [beta1, beta2, eps] = [0.9, 0.999, 1e-8];
  return async () => {
    t++;
    const value = tf.tidy(() => {
      const { value: l, grads } = tf.variableGrads(loss, vars);
      // AdamW (decoupled weight decay), as torch.optim.AdamW and medner's optimizer.
      vars.forEach((variable, i) => {
        const g = grads[(variable as unknown as { name: string }).name];
        const s = moments[i]!;
        s.m.assign(tf.add(tf.mul(s.m, beta1), tf.mul(g, 1 - beta1)));
        s.v.assign(tf.add(tf.mul(s.v, beta2), tf.mul(tf.square(g), 1 - beta2)));
        const mHat = tf.div(s.m, 1 - beta1 ** t);
        const vHat = tf.div(s.v, 1 - beta2 ** t);
        const update = tf.add(tf.div(mHat, tf.add(tf.sqrt(vHat), eps)), tf.mul(variable, WEIGHT_DECAY));
        variable.assign(tf.sub(variable, tf.mul(update, LR)));
      });
      return tf.keep(l);
    }) as TfTensor;
    const out = (await value.data())[0]!;
    value.dispose();
    return out;
  };
}

// ---------------- driver ----------------

async function measure(engine: string, hidden: number): Promise<Row> {
  let step: () => Promise<number>;
  let info: string;
  if (engine === 'medner-cpu' || engine === 'medner-webgpu') {
    const made = await mednerStep(engine === 'medner-cpu' ? 'cpu' : 'webgpu', hidden);
    step = made.step;
    info = `${made.adapter}; MEDNER_THREADS=${process.env.MEDNER_THREADS ?? 'default'}`;
  } else {
    const loaded = await loadTfjs(engine.slice('tfjs-'.length) as 'cpu' | 'wasm' | 'webgpu');
    if (typeof loaded === 'string') return { name: engine, engine, hidden, skipped: loaded };
    step = tfjsStep(loaded.tf, hidden);
    info = loaded.notes.join('; ');
  }
  const losses: number[] = [];
  const steps = stepsFor(engine, hidden);
  const timing = await timeSteps(async () => losses.push(await step()), { warmup: 1, minRuns: steps, maxRuns: steps });
  return { name: engine, engine, hidden, 'ms/step': round(timing.ms), 'best ms': round(timing.best), steps: timing.runs, 'first loss': round(losses[0]!, 4), 'last loss': round(losses.at(-1)!, 4), info };
}

if (flag('--one')) {
  const [engine, hidden] = option('--one', '').split(':') as [string, string];
  emitResult(await measure(engine, Number(hidden)));
  process.exit(0);
}

const hiddens = option('--hidden', '128,256').split(',').map(Number);
const engines = option('--engines', ENGINES.join(',')).split(',');
const rows: Row[] = [];
for (const hidden of hiddens) {
  for (const engine of engines) {
    let row: Row;
    try {
      // One core for everyone: tfjs-cpu and tfjs-wasm are single-threaded in Node; medner's CPU matmul is told so.
      row = runChild<Row>(fileURLToPath(import.meta.url), ['--one', `${engine}:${hidden}`, ...(flag('--steps') ? ['--steps', option('--steps', '')] : []), '--peers', peersPath], { MEDNER_THREADS: '1' }, 1_200_000);
    } catch (error) {
      row = { name: engine, engine, hidden, skipped: `failed: ${(error as Error).message.split('\n')[0]}` };
    }
    console.log(`H${hidden} ${engine}: ${row['ms/step'] !== undefined ? `${row['ms/step']} ms/step` : row.skipped}`);
    rows.push(row);
  }
}

// Ratios: each peer's time over medner's best backend at the same width (> 1: medner is faster).
for (const hidden of hiddens) {
  const ours = rows.filter((r) => r.hidden === hidden && String(r.engine).startsWith('medner') && typeof r['ms/step'] === 'number');
  const best = Math.min(...ours.map((r) => r['ms/step'] as number));
  for (const r of rows.filter((r) => r.hidden === hidden && typeof r['ms/step'] === 'number')) r['vs medner best'] = round((r['ms/step'] as number) / best);
}
printTable(`One BERT layer training step (post-LN, FFN 4x, token head, AdamW), batch ${BATCH} x ${TOKENS}, one core; 'vs medner best' = its ms / medner's best ms`, rows.map(({ info: _info, ...r }) => r));
writeJson(option('--out', 'bench-results/tfjs-bert-layer.json'), { benchmark: 'tfjs-bert-layer', batch: BATCH, tokens: TOKENS, machine: machine(), versions: versions(), date: new Date().toISOString(), results: rows });
process.exit(0);
