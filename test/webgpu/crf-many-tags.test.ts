// MedMentions-sized tag sets on WebGPU: one workgroup walks a whole sequence, and with 64
// lanes over 129 tags llvmpipe handed back a 128-step sequence's forward pass unfinished
// (alpha zero past some step, logZ wrong, no error). Lanes now grow with the tag count.
// Open: with 255 tags over 128 steps llvmpipe still returns a wrong last step (deterministic;
// the same sizes at 40 steps, or 200 tags at 128, are right); bench/gpu/check.ts shows it.
// Whether a real GPU agrees is for the GPU kit to tell.
import { describe, it } from 'vitest';
import { Rng } from '../../src/tensor/random.js';
import { agree, webgpu } from './setup.js';

describe('CRF kernels with many tags', () => {
  it.each([129, 200])('forward logZ and Viterbi score over 128 steps with %i tags match the CPU', async (tags) => {
    const gpu = await webgpu();
    const rng = new Rng(tags);
    const [batch, steps] = [2, 128];
    const shape = { batch, steps, tags };
    const uniform = (n: number, low: number, high: number) => Float32Array.from({ length: n }, () => rng.uniform(low, high));
    const mask = Float32Array.from({ length: batch * steps }, (_, i) => (i < steps || i % steps < 100 ? 1 : 0));
    const inputs = [uniform(batch * steps * tags, -3, 3), mask, uniform(tags * tags, -1, 1), uniform(tags, -1, 1), uniform(tags, -1, 1)];
    await agree(gpu, inputs, (b, [e, m, t, s, en]) => b.crfForward(e!, m!, t!, s!, en!, shape).logZ, 1e-5, `crf logZ, ${tags} tags`);
    await agree(gpu, inputs, (b, [e, m, t, s, en]) => b.viterbi(e!, m!, t!, s!, en!, shape).score, 1e-5, `viterbi score, ${tags} tags`);
  });
});
