// Memory on the WebGPU backend: ten training-like steps (forward, backward,
// AdamW in place) inside tidy() return the live-buffer count to where it
// started, and a step reads nothing back to the host but its loss.

import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/tensor/random.js';
import { tensor, zeros, type Tensor } from '../../src/tensor/tensor.js';
import { keep, tidy } from '../../src/tensor/scope.js';
import * as ops from '../../src/ops/index.js';
import { webgpu } from './setup.js';

// B = batch, T = tokens, V = vocabulary, D = features, H = hidden, C = classes
const [B, T, V, D, H, C] = [3, 4, 13, 8, 6, 5];

describe('webgpu memory', () => {
  it('10 training steps inside tidy() leak no buffers and read back only the loss', async () => {
    const gpu = await webgpu();
    const start = gpu.liveBuffers();
    const rng = new Rng(11);
    const make = (shape: number[], scale = 0.5) =>
      keep(tensor(Float32Array.from({ length: shape.reduce((a, d) => a * d, 1) }, () => rng.uniform(-scale, scale)), shape, { backend: gpu, requiresGrad: true }));
    const params = { table: make([V, D]), gamma: make([D]), beta: make([D]), w1: make([D, H]), w2: make([H, C]), bias: make([C]) };
    const moments = Object.values(params).map((p) => ({ m: keep(zeros([...p.shape], { backend: gpu })), v: keep(zeros([...p.shape], { backend: gpu })) }));
    const ids = keep(tensor(Int32Array.from({ length: B * T }, (_, i) => (i * 5) % V), [B, T], { backend: gpu, dtype: 'i32' }));
    const targets = keep(tensor(Int32Array.from({ length: B * T }, (_, i) => i % C), [B * T], { backend: gpu, dtype: 'i32' }));
    const afterSetup = gpu.liveBuffers();

    const losses: number[] = [];
    for (let step = 1; step <= 10; step++) {
      const readsBefore = gpu.runtime.readbacks;
      const loss = tidy(() => {
        const x = ops.layerNorm(ops.embedding(params.table, ids), params.gamma, params.beta, 1e-5);
        const hidden = ops.dropout(ops.gelu(ops.matmul(x, params.w1)), 0.1, true, step);
        const logits = ops.add(ops.matmul(hidden, params.w2), params.bias);
        const value: Tensor = ops.crossEntropy(ops.reshape(logits, [B * T, C]), targets);
        value.backward();
        Object.values(params).forEach((p, i) => {
          gpu.adamwInPlace(p.storage, p.grad!.storage, moments[i]!.m.storage, moments[i]!.v.storage, {
            lr: 0.05, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step,
          });
          p.zeroGrad();
        });
        return value;
      });
      expect(gpu.runtime.readbacks, 'no readback inside a step').toBe(readsBefore);
      losses.push(await loss.item());
      expect(gpu.runtime.readbacks - readsBefore, 'one readback: the loss').toBe(1);
      loss.dispose();
      expect(gpu.liveBuffers(), `live buffers after step ${step}`).toBe(afterSetup);
    }
    expect(losses[9]!).toBeLessThan(losses[0]!);

    for (const t of [...Object.values(params), ...moments.flatMap((m) => [m.m, m.v]), ids, targets]) t.dispose();
    expect(gpu.liveBuffers()).toBe(start);
  });

  it('freeing twice or using a freed buffer is an error that names the op', async () => {
    const gpu = await webgpu();
    const s = gpu.fromArray(new Float32Array([1, 2]));
    gpu.free(s);
    expect(() => gpu.free(s)).toThrow(/freed twice/);
    expect(() => gpu.unary('exp', s)).toThrow(/exp: buffer used after it was freed/);
  });
});
