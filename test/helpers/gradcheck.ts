// Central finite differences against the autodiff gradient. The loss is
// sum(f(inputs) * w) with fixed random weights w, so every output element's
// gradient path is exercised with a distinct upstream value.

import { expect } from 'vitest';
import { Rng, Tensor, noGrad, tensor, tidy } from '../../src/index.js';
import { shapeSize } from '../../src/tensor/shape.js';

export interface InputSpec {
  shape: number[];
  /** Values are drawn uniformly from [low, high] with a random sign when `signed`. */
  low?: number;
  high?: number;
  signed?: boolean;
  /**
   * Minimum gap between any two values. Ops with kinks (max) or that amplify
   * near-ties (layer_norm of nearly equal values) are only differentiable
   * away from ties; the finite-difference step must not cross one.
   */
  distinct?: number;
}

export function randomValues(spec: InputSpec, rng: Rng): Float32Array {
  const low = spec.low ?? -2;
  const high = spec.high ?? 2;
  const size = shapeSize(spec.shape);
  if (spec.distinct) {
    const slots = Math.floor((high - low) / spec.distinct) + 1;
    if (slots < size) throw new Error(`randomValues: ${size} values with gap ${spec.distinct} do not fit in [${low}, ${high}]`);
    const grid = rng.shuffle(Array.from({ length: slots }, (_, i) => low + i * spec.distinct!));
    return Float32Array.from(grid.slice(0, size));
  }
  return Float32Array.from({ length: shapeSize(spec.shape) }, () => {
    const v = rng.uniform(low, high);
    return spec.signed && rng.next() < 0.5 ? -v : v;
  });
}

function weightedSum(out: Tensor, weights: Float32Array): number {
  const values = out.dataSync();
  let total = 0;
  for (let i = 0; i < values.length; i++) total += values[i]! * weights[i]!;
  return total;
}

/**
 * Checks the gradient of fn with respect to every input against central
 * differences in float32 (step 1e-2, so tolerances are loose against rounding
 * but far tighter than any wrong derivative).
 */
export function gradcheck(fn: (inputs: Tensor[]) => Tensor, specs: InputSpec[], seed: number, tolerance = { abs: 5e-3, rel: 2e-2 }): void {
  const rng = new Rng(seed);
  const values = specs.map((s) => randomValues(s, rng));
  tidy(() => {
    const inputs = values.map((v, i) => tensor(v, specs[i]!.shape, { requiresGrad: true }));
    const out = fn(inputs);
    const weights = Float32Array.from({ length: out.size }, () => rng.uniform(-1, 1));
    out.backward(tensor(weights, out.shape));
    const eps = 1e-2;
    inputs.forEach((input, k) => {
      const analytic = input.grad ? input.grad.dataSync() : new Float32Array(input.size);
      for (let j = 0; j < input.size; j++) {
        const evaluate = (delta: number): number =>
          noGrad(() =>
            tidy(() => {
              const perturbed = values.map((v, i) => {
                const copy = Float32Array.from(v);
                if (i === k) copy[j]! += delta;
                return tensor(copy, specs[i]!.shape);
              });
              return weightedSum(fn(perturbed), weights);
            }),
          );
        const numeric = (evaluate(eps) - evaluate(-eps)) / (2 * eps);
        const error = Math.abs(numeric - analytic[j]!);
        if (error > tolerance.abs + tolerance.rel * Math.abs(numeric)) {
          expect.fail(`input ${k} [${specs[k]!.shape}] element ${j}: autodiff ${analytic[j]} vs finite difference ${numeric}`);
        }
      }
      input.zeroGrad();
    });
    return null;
  });
}

/**
 * gradcheck with asynchronous reads, so it runs on any backend (WebGPU reads only
 * asynchronously): the same finite differences and tolerances, on the current backend.
 */
export async function gradcheckAsync(fn: (inputs: Tensor[]) => Tensor, specs: InputSpec[], seed: number, tolerance = { abs: 5e-3, rel: 2e-2 }): Promise<void> {
  const rng = new Rng(seed);
  const values = specs.map((s) => randomValues(s, rng));
  // Outside any scope: gradients are kept tensors, read after the backward scope has closed.
  const inputs = values.map((v, i) => tensor(v, specs[i]!.shape, { requiresGrad: true }));
  let weights = new Float32Array(0);
  tidy(() => {
    const out = fn(inputs);
    weights = Float32Array.from({ length: out.size }, () => rng.uniform(-1, 1));
    out.backward(tensor(weights, out.shape));
    return null;
  });
  const analytic = await Promise.all(inputs.map(async (input) => (input.grad ? await input.grad.data() : new Float32Array(input.size))));
  for (const input of inputs) {
    input.zeroGrad();
    input.dispose();
  }
  const eps = 1e-2;
  for (let k = 0; k < specs.length; k++) {
    for (let j = 0; j < values[k]!.length; j++) {
      const evaluate = async (delta: number): Promise<number> => {
        const out = noGrad(() =>
          tidy(() =>
            fn(
              values.map((v, i) => {
                const copy = Float32Array.from(v);
                if (i === k) copy[j]! += delta;
                return tensor(copy, specs[i]!.shape);
              }),
            ),
          ),
        );
        const result = await out.data();
        out.dispose();
        let total = 0;
        for (let i = 0; i < result.length; i++) total += result[i]! * weights[i]!;
        return total;
      };
      const numeric = ((await evaluate(eps)) - (await evaluate(-eps))) / (2 * eps);
      const error = Math.abs(numeric - analytic[k]![j]!);
      if (error > tolerance.abs + tolerance.rel * Math.abs(numeric)) {
        expect.fail(`input ${k} [${specs[k]!.shape}] element ${j}: autodiff ${analytic[k]![j]} vs finite difference ${numeric}`);
      }
    }
  }
}

export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    const a = actual[i]!;
    if (!(Math.abs(a - e) <= tol * Math.max(1, Math.abs(e)))) expect.fail(`element ${i}: got ${a}, expected ${e}`);
  }
}
