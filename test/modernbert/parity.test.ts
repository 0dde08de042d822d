// ModernBERT against PyTorch (issue 18): the tiny checkpoint of tools/reference/make_modernbert_fixtures.py
// -- 3 layers, global / local (window +-2) / global, two rope thetas, GeGLU, no biases -- loaded by
// name through loadPretrainedWeights on each backend, reproduces the reference's last hidden state and
// prediction-head features on a padded batch (forward <= 1e-4) and the gradient of every parameter
// (element by element, |a - b| <= 1e-5 + 1e-3 |b|).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cpuBackend, ops, setBackend, tensor, tidy, type Backend } from '../../src/index.js';
import { readHfConfig } from '../../src/io/hf-config.js';
import { BertSoftmax } from '../../src/models/bert-tagger.js';
import { ModernBertModel } from '../../src/nn/modernbert.js';
import { loadPretrainedWeights } from '../../src/train/pretrained.js';
import { backends } from '../nn/backends.js';
import { ErrorLog, FORWARD_TOLERANCE, GRADIENT_TOLERANCE, forwardError, gradientError } from '../nn/reference.js';
import { fixtureDir, loadExpected } from '../pretrained/helpers.js';

interface Gradients {
  upstream: { shape: number[]; data: number[] };
  grads: Record<string, { shape: number[]; data: number[] }>;
}

type Expected = ReturnType<typeof loadExpected> & { tokenFeatures: { shape: number[]; data: number[] } };
const dir = fixtureDir('modernbert');
// modernbert: ModernBERT-base's settings (no biases, legacy rope fields); modernbert-bias: every bias, layer_types and rope_parameters.
const FIXTURES = ['modernbert', 'modernbert-bias'].map((name) => {
  const path = join(dir, '..', name);
  const read = (file: string) => JSON.parse(readFileSync(join(path, file), 'utf8'));
  return { name, dir: path, expected: read('expected.json') as Expected, reference: read('gradients.json') as Gradients };
});
const CASES = backends.flatMap(([backendName, backend]) => FIXTURES.map((fixture) => [`${fixture.name} on ${backendName}`, backend, fixture] as const));

function loadEncoder(backend: Backend, dir: string): { tagger: BertSoftmax; encoder: ModernBertModel } {
  setBackend(backend);
  const tagger = new BertSoftmax({ encoder: readHfConfig(dir), numTags: 3 });
  loadPretrainedWeights(tagger, dir, backend);
  tagger.eval();
  return { tagger, encoder: tagger.bert as ModernBertModel };
}

describe.each(CASES)('ModernBERT parity with PyTorch: %s', (name, backend, { dir, expected, reference }) => {
  const log = new ErrorLog();
  afterAll(() => {
    setBackend(cpuBackend);
    log.print(`ModernBERT parity (${name}): worst forward / gradient errors`);
  });

  it('last hidden state, head features and every parameter gradient on a padded batch', async () => {
    const { tagger, encoder } = loadEncoder(backend, dir);
    const [B, S] = [expected.inputIds.length, expected.inputIds[0]!.length];
    const { last, features } = tidy(() => {
      const ids = tensor(Int32Array.from(expected.inputIds.flat()), [B, S], { dtype: 'i32', backend });
      const mask = tensor(Float32Array.from(expected.attentionMask.flat()), [B, S], { backend });
      const lastHidden = encoder.forward(ids, { attentionMask: mask }).lastHiddenState;
      const headFeatures = encoder.tokenFeatures(lastHidden);
      const upstream = tensor(Float32Array.from(reference.upstream.data), reference.upstream.shape, { backend });
      ops.sum(ops.mul(headFeatures, upstream)).backward();
      return { last: lastHidden, features: headFeatures };
    });
    // Every position, padding included: a padded query whose window holds no real key attends uniformly, as in HF.
    expect(log.note('last hidden state', forwardError(await last.data(), expected.lastHiddenState.data))).toBeLessThanOrEqual(FORWARD_TOLERANCE);
    expect(log.note('head features', forwardError(await features.data(), expected.tokenFeatures.data))).toBeLessThanOrEqual(FORWARD_TOLERANCE);
    last.dispose();
    features.dispose();
    const names = encoder.namedParameters().map(([n]) => n);
    expect(names.sort()).toEqual(Object.keys(reference.grads).sort());
    for (const [param, t] of encoder.namedParameters()) {
      const error = log.note('gradients', gradientError(await t.grad!.data(), reference.grads[param]!.data));
      expect(error, `gradient of ${param}`).toBeLessThanOrEqual(GRADIENT_TOLERANCE);
    }
    encoder.dispose();
  });
});

describe('ModernBERT structure', () => {
  it('layer 0 has no attn_norm; local layers get the sliding window, global ones the full mask', () => {
    const { tagger, encoder } = loadEncoder(cpuBackend, dir);
    expect(encoder.layers.map((l) => l.attn_norm === null)).toEqual([true, false, false]);
    expect(encoder.fields.layerTypes).toEqual(['global', 'local', 'global']);
    expect([encoder.fields.globalRopeTheta, encoder.fields.localRopeTheta, encoder.fields.localAttention]).toEqual([160000, 10000, 4]);
    // No biases anywhere (norm_bias, attention_bias, mlp_bias, classifier_bias false).
    expect(encoder.namedParameters().filter(([n]) => n.endsWith('.bias'))).toEqual([]);
    tagger.dispose();
  });

  it('a local layer sees only +-local_attention/2 tokens: changing a far token leaves a position untouched after one local layer', () => {
    // One local layer alone (transformers always makes layer 0 global; the model itself takes any pattern).
    const config = readHfConfig(dir);
    setBackend(cpuBackend);
    if (config.modelType !== 'modernbert') throw new Error(`the fixture is '${config.modelType}'`);
    const encoder = new ModernBertModel({ ...config, numLayers: 1, layerTypes: ['local'] });
    encoder.eval();
    const run = (ids: number[]) => tidy(() => encoder.forward(tensor(Int32Array.from(ids), [1, ids.length], { dtype: 'i32' })).lastHiddenState.dataSync());
    const base = [2, 10, 11, 12, 13, 14, 15, 16, 3];
    const changed = [...base];
    changed[8] = 20; // position 8: more than 2 away from positions 0..5
    const [a, b] = [run(base), run(changed)];
    const H = encoder.hiddenSize;
    for (let s = 0; s < 9; s++) {
      const differs = a.slice(s * H, (s + 1) * H).some((v, i) => v !== b[s * H + i]);
      expect(differs, `position ${s}`).toBe(s >= 6);
    }
    encoder.dispose();
  });
});
