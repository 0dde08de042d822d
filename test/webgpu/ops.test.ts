// Op-level agreement through the Tensor API: the same small graphs (forward and
// backward) are built on the CPU and the WebGPU backends, and the outputs and
// every .grad must agree (relative error <= 1e-4 forward, <= 1e-3 gradients).
// One shared test body per graph, run once per backend.

import { describe, expect, it } from 'vitest';
import type { Backend } from '../../src/backend/backend.js';
import { Rng } from '../../src/tensor/random.js';
import { tensor, type Tensor } from '../../src/tensor/tensor.js';
import { tidy } from '../../src/tensor/scope.js';
import * as ops from '../../src/ops/index.js';
import { cpu, expectClose, webgpu } from './setup.js';

const FORWARD = 1e-4;
const GRADIENT = 1e-3;

interface GraphResult {
  outputs: Record<string, Tensor>;
  leaves: Record<string, Tensor>;
}

/** A graph builder gets the backend and seeded data; it returns named outputs (the first is backpropagated) and leaves. */
type Graph = (backend: Backend, rng: Rng) => GraphResult;

function leaf(backend: Backend, rng: Rng, shape: number[], low = -1, high = 1): Tensor {
  const n = shape.reduce((a, d) => a * d, 1);
  return tensor(Float32Array.from({ length: n }, () => rng.uniform(low, high)), shape, { backend, requiresGrad: true });
}

// B = batch, T = tokens, V = vocabulary, D = features, C = classes
const graphs: Record<string, Graph> = {
  'embedding -> layerNorm -> gelu -> matmul -> crossEntropy': (backend, rng) => {
    const [B, T, V, D, C] = [2, 5, 11, 7, 5];
    const ids = tensor(Int32Array.from({ length: B * T }, (_, i) => (i * 3) % V), [B, T], { backend, dtype: 'i32' });
    const targets = tensor(Int32Array.from({ length: B * T }, (_, i) => (i % 4 === 3 ? -100 : i % C)), [B * T], { backend, dtype: 'i32' });
    const table = leaf(backend, rng, [V, D]);
    const gamma = leaf(backend, rng, [D], 0.5, 1.5);
    const beta = leaf(backend, rng, [D]);
    const weight = leaf(backend, rng, [D, C]);
    const bias = leaf(backend, rng, [C]);
    const hidden = ops.gelu(ops.layerNorm(ops.embedding(table, ids), gamma, beta, 1e-5));
    const logits = ops.add(ops.matmul(hidden, weight), bias);
    const loss = ops.crossEntropy(ops.reshape(logits, [B * T, C]), targets);
    return { outputs: { loss, logits }, leaves: { table, gamma, beta, weight, bias } };
  },
  'attention-like: batched matmul with transB, softmax, permute, slice, concat': (backend, rng) => {
    const [B, T, D] = [2, 6, 9];
    const q = leaf(backend, rng, [B, T, D]);
    const k = leaf(backend, rng, [B, T, D]);
    const v = leaf(backend, rng, [B, T, D]);
    const scores = ops.div(ops.matmul(q, k, { transB: true }), Math.sqrt(D));
    const mask = tensor(Float32Array.from({ length: T }, (_, t) => (t >= T - 2 ? 1 : 0)), [1, 1, T], { backend });
    const attention = ops.softmax(ops.maskedFill(scores, mask, -1e9), -1);
    const context = ops.matmul(attention, v);
    const heads = ops.permute(ops.reshape(context, [B, T, 3, 3]), [0, 2, 1, 3]);
    const joined = ops.concat([ops.slice(heads, 1, 0, 1), ops.slice(heads, 1, 2, 3)], 1);
    const total = ops.sum(ops.mul(joined, joined));
    return { outputs: { total, attention }, leaves: { q, k, v } };
  },
  'elementwise and reductions: broadcasting, pow, max, logsumexp, logSoftmax, mean, where': (backend, rng) => {
    const x = leaf(backend, rng, [4, 7], 0.2, 2);
    const y = leaf(backend, rng, [7]);
    const z = leaf(backend, rng, [4, 1]);
    const mixed = ops.add(ops.mul(ops.pow(x, 1.5), y), ops.tanh(ops.sub(z, ops.sigmoid(y))));
    const gated = ops.where(ops.gt(mixed, 0), ops.exp(ops.neg(mixed)), ops.log(ops.add(ops.abs(mixed), 1)));
    const pooled = ops.add(ops.max(gated, 1), ops.logsumexp(mixed, 0).sum());
    const logProbs = ops.logSoftmax(ops.div(mixed, ops.sqrt(x)), 0);
    const total = ops.add(ops.mean(pooled), ops.mean(ops.mul(logProbs, ops.relu(y))));
    return { outputs: { total, gated, logProbs }, leaves: { x, y, z } };
  },
  'dropout with a fixed seed: the same mask on both backends': (backend, rng) => {
    const x = leaf(backend, rng, [3, 33]);
    const dropped = ops.dropout(x, 0.3, true, 987654321);
    const total = ops.sum(ops.mul(dropped, dropped));
    return { outputs: { total, dropped }, leaves: { x } };
  },
};

async function evaluate(graph: Graph, backend: Backend) {
  const { outputs, leaves } = graph(backend, new Rng(7));
  const [root] = Object.values(outputs);
  root!.backward();
  const values: Record<string, Float32Array> = {};
  for (const [name, t] of Object.entries(outputs)) values[name] = (await t.data()) as Float32Array;
  const grads: Record<string, Float32Array> = {};
  for (const [name, t] of Object.entries(leaves)) {
    expect(t.grad, `${name}.grad`).not.toBeNull();
    grads[name] = (await t.grad!.data()) as Float32Array;
    t.zeroGrad();
    t.dispose();
  }
  for (const t of Object.values(outputs)) t.dispose();
  return { values, grads };
}

describe.each(Object.keys(graphs))('%s', (name) => {
  it('agrees on WebGPU and CPU, forward and backward', async () => {
    const gpu = await webgpu();
    const expected = await evaluate(graphs[name]!, cpu);
    const actual = await evaluate(graphs[name]!, gpu);
    for (const key of Object.keys(expected.values)) expectClose(actual.values[key]!, expected.values[key]!, FORWARD, `${name}: ${key}`);
    for (const key of Object.keys(expected.grads)) expectClose(actual.grads[key]!, expected.grads[key]!, GRADIENT, `${name}: d/d ${key}`);
  });
});

describe('the tape on the WebGPU backend', () => {
  it('leaves no buffers behind after a graph is built, backpropagated and disposed inside tidy', async () => {
    const gpu = await webgpu();
    const before = gpu.liveBuffers();
    const grads = tidy(() => {
      const { outputs, leaves } = graphs['embedding -> layerNorm -> gelu -> matmul -> crossEntropy']!(gpu, new Rng(1));
      outputs.loss!.backward();
      return Object.values(leaves).map((t) => t.grad!);
    });
    for (const g of grads) g.dispose();
    expect(gpu.liveBuffers()).toBe(before);
  });
});
