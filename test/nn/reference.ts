// Loading the PyTorch reference fixtures (tools/reference/make_fixtures.py writes them to
// test/fixtures/reference) and comparing against them with the parity tolerances of issue 4.

import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { Tensor, tensor, type Backend, type Module } from '../../src/index.js';

export interface Encoded {
  shape: number[];
  dtype: 'f32' | 'i32';
  data: number[];
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function loadFixture(name: string): any {
  return JSON.parse(readFileSync(new URL(`../fixtures/reference/${name}.json`, import.meta.url), 'utf8'));
}

export function decode(e: Encoded, backend: Backend, options: { requiresGrad?: boolean } = {}): Tensor {
  const data = e.dtype === 'i32' ? Int32Array.from(e.data) : Float32Array.from(e.data);
  return tensor(data, e.shape, { dtype: e.dtype, backend, requiresGrad: options.requiresGrad });
}

/** Copy the fixture's weights into `module` by name; every name must exist on both sides. */
export function loadParams(module: Module, params: Record<string, Encoded>, backend: Backend, rename: (name: string) => string = (n) => n): void {
  const state = new Map<string, Tensor>();
  for (const [name, e] of Object.entries(params)) state.set(rename(name), decode(e, backend));
  module.loadStateDict(state);
  for (const t of state.values()) t.dispose();
}

/** The largest |actual - expected| relative to max(1, |expected|) element-wise: the forward criterion. */
export function forwardError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!) / Math.max(1, Math.abs(expected[i]!)));
  return worst;
}

/**
 * The gradient criterion, element by element: |actual - expected| <= GRADIENT_ATOL + GRADIENT_TOLERANCE * |expected|
 * for every entry, so a small entry that is wrong fails even beside large ones. Returned as the worst
 * |actual - expected| / (|expected| + GRADIENT_ATOL / GRADIENT_TOLERANCE), which is <= GRADIENT_TOLERANCE
 * exactly when every entry passes. The absolute part covers gradients that are 0 in theory (attention's
 * key bias: softmax ignores a shift shared by all keys), where both sides hold only float rounding (~1e-8), and float32 sums of thousands of terms.
 */
export function gradientError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const error = Math.abs(actual[i]! - expected[i]!) / (Math.abs(expected[i]!) + GRADIENT_ATOL / GRADIENT_TOLERANCE);
    worst = Math.max(worst, Number.isNaN(error) ? Infinity : error);
  }
  return worst;
}

export const GRADIENT_ATOL = 1e-5;
export const FORWARD_TOLERANCE = 1e-4;
export const GRADIENT_TOLERANCE = 1e-3;

/** Records the worst errors seen, printed once per file, so the parity figures can be reported. */
export class ErrorLog {
  private readonly worst = new Map<string, number>();
  note(key: string, error: number): number {
    this.worst.set(key, Math.max(this.worst.get(key) ?? 0, error));
    return error;
  }
  print(title: string): void {
    const lines = [...this.worst].map(([k, v]) => `  ${k}: ${v.toExponential(2)}`);
    console.log(`${title}\n${lines.join('\n')}`);
  }
}

export async function values(t: Tensor): Promise<ArrayLike<number>> {
  return t.data();
}
