// Shared by the WebGPU test files: one backend per test file (vitest runs each
// file in its own process with --pool forks), plus the comparison helpers every
// agreement test uses. The tests run for real on a machine without a GPU through
// Dawn's OpenGL ES backend on llvmpipe; there is no skip path.

import { afterAll, expect } from 'vitest';
import type { Backend, Storage, TypedArray } from '../../src/backend/backend.js';
import { cpuBackend } from '../../src/backend/registry.js';
import { createWebGpuBackend, type WebGpuBackend } from '../../src/backend/webgpu/index.js';

let created: Promise<WebGpuBackend> | null = null;

/** The file's WebGPU backend, created on first use and destroyed after the file's tests. */
export function webgpu(): Promise<WebGpuBackend> {
  if (!created) {
    created = createWebGpuBackend();
    afterAll(async () => (await created!).destroy());
  }
  return created;
}

export const cpu = cpuBackend;

/**
 * Elementwise agreement, entry by entry: |actual - expected| <= tolerance * (|expected| + 1e-2 * mean |expected|).
 * Relative per element, so a small entry that is wrong fails even beside large ones; the floor (a
 * hundredth of the tensor's typical magnitude) only spares entries that are ~0, where float32
 * rounding of a sum is all there is. NaN must meet NaN, infinities must match.
 */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number, what = ''): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  let meanMagnitude = 0;
  for (let i = 0; i < expected.length; i++) if (Number.isFinite(expected[i]!)) meanMagnitude += Math.abs(expected[i]!);
  meanMagnitude /= Math.max(expected.length, 1);
  const floor = 1e-2 * meanMagnitude;
  let worst = 0;
  let worstAt = -1;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e) || !Number.isFinite(e)) {
      if (!Object.is(a, e) && !(Number.isNaN(a) && Number.isNaN(e))) throw new Error(`${what}: element ${i} is ${a}, expected ${e}`);
      continue;
    }
    const error = Math.abs(a - e) / Math.max(Math.abs(e) + floor, 1e-30);
    if (!(error <= worst)) [worst, worstAt] = [Number.isNaN(error) ? Infinity : error, i];
  }
  if (worst > tolerance) {
    throw new Error(`${what}: relative error ${worst.toExponential(2)} > ${tolerance} at element ${worstAt} (got ${actual[worstAt]}, expected ${expected[worstAt]})`);
  }
}

/** Read a storage and free it. */
export async function take(backend: Backend, s: Storage): Promise<TypedArray> {
  const values = await backend.read(s);
  backend.free(s);
  return values;
}

/** Run the same kernel call on both backends (inputs uploaded to each) and compare one output. */
export async function agree(
  gpu: Backend,
  inputs: TypedArray[],
  call: (backend: Backend, storages: Storage[]) => Storage,
  tolerance: number,
  what: string,
): Promise<void> {
  const onCpu = inputs.map((a) => cpu.fromArray(a));
  const onGpu = inputs.map((a) => gpu.fromArray(a));
  const expected = await take(cpu, call(cpu, onCpu));
  const actual = await take(gpu, call(gpu, onGpu));
  onCpu.forEach((s) => cpu.free(s));
  onGpu.forEach((s) => gpu.free(s));
  expectClose(actual, expected, tolerance, what);
}
