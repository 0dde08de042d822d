// The backends every layer, CRF and model test runs on: the same test bodies on CPU and on
// WebGPU (issue 3 item 5, issue 4 item 7). The WebGPU backend is real on every machine: on
// one without a GPU, Dawn's OpenGL ES backend over Mesa llvmpipe (test/webgpu/setup.ts);
// there is no skip path. Created once per test file (vitest runs each file in its own process).

import { cpuBackend, tidy, type Backend, type Tensor } from '../../src/index.js';
import { webgpu } from '../webgpu/setup.js';

export const backends: [string, Backend][] = [
  ['cpu', cpuBackend],
  ['webgpu', await webgpu()],
];

/**
 * Run fn in a scope, read back the tensor it returns and dispose it. Reads are asynchronous
 * (WebGPU has no synchronous readback), so every shared test body reads this way.
 */
export async function readBack(fn: () => Tensor): Promise<Float32Array> {
  const t = tidy(fn);
  try {
    return Float32Array.from(await t.data());
  } finally {
    t.dispose();
  }
}

/** readBack for several tensors at once: fn returns a record of them. */
export async function readAll<K extends string>(fn: () => Record<K, Tensor>): Promise<Record<K, Float32Array>> {
  const tensors = tidy(fn);
  try {
    const entries = await Promise.all(Object.entries<Tensor>(tensors).map(async ([k, t]) => [k, Float32Array.from(await t.data())] as const));
    return Object.fromEntries(entries) as Record<K, Float32Array>;
  } finally {
    for (const t of Object.values<Tensor>(tensors)) t.dispose();
  }
}
