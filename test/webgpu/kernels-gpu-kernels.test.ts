// The whole kernel agreement suite of kernels.test.ts again, with the GPU kernel set
// forced on (matmul_tiled, softmax/layer_norm/cross_entropy one workgroup per row),
// plus matmul shapes that span several 128 x 128 tiles in every transpose.
import './force-gpu-kernels.js';
import './kernels.test.js';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/tensor/random.js';
import { agree, webgpu } from './setup.js';

describe('the GPU kernel set on this adapter', () => {
  it('is the one in use', async () => {
    const gpu = await webgpu();
    expect(gpu.variants.profile).toBe('gpu');
  });

  it.each([
    [false, false], [false, true], [true, false], [true, true],
  ])('matmul_tiled over several tiles (transA %s, transB %s)', async (transA, transB) => {
    const gpu = await webgpu();
    const rng = new Rng(7);
    const [batch, m, k, n] = [2, 261, 37, 135];
    const layout = { batch, m, k, n, transA, transB, batchStrideA: m * k, batchStrideB: k * n };
    const a = Float32Array.from({ length: batch * m * k }, () => rng.uniform(-1, 1));
    const b = Float32Array.from({ length: batch * k * n }, () => rng.uniform(-1, 1));
    await agree(gpu, [a, b], (be, [sa, sb]) => be.matmul(sa!, sb!, layout), 1e-4, `matmul_tiled ${JSON.stringify(layout)}`);
  });

  it('one workgroup per row handles rows wider than the workgroup (softmax of 1000 classes)', async () => {
    const gpu = await webgpu();
    const rng = new Rng(3);
    const x = Float32Array.from({ length: 3 * 1000 }, () => rng.uniform(-20, 20));
    await agree(gpu, [x], (be, [s]) => be.softmax(s!, { outer: 3, axis: 1000, inner: 1 }, true), 1e-4, 'softmax_rows 3x1000');
  });
});
