// Reference CRF quantities by enumerating every tag path, in float64, plus the
// fast-check generator of small CRF problems and the helpers the CRF suites share.
// Exponential in the length: only for T <= 4, C <= 5.
// B = batch, T = time steps, C = tags.

import fc from 'fast-check';
import type { Backend } from '../../src/backend/backend.js';
import { tidy, type Tensor } from '../../src/index.js';
import { backends as layerBackends } from '../nn/backends.js';

/** Every backend the CRF suites run on: CPU and WebGPU (test/nn/backends.ts). */
export const backends: Backend[] = layerBackends.map(([, backend]) => backend);

export interface CrfCase {
  B: number;
  T: number;
  C: number;
  emissions: Float32Array; // [B,T,C]
  transitions: Float32Array; // [C,C], i*C + j: tag i followed by tag j
  start: Float32Array; // [C]
  end: Float32Array; // [C]
  lengths: number[]; // [B], 1..T
  weights: Float32Array; // [B], upstream gradient for the batch's log-partitions
}

/** Scores a path reads, as float64 arrays so finite differences can perturb them. */
export interface Scores {
  emissions: ArrayLike<number>;
  transitions: ArrayLike<number>;
  start: ArrayLike<number>;
  end: ArrayLike<number>;
}

const floats = (n: number, range: number) =>
  fc.array(fc.double({ min: -range, max: range, noNaN: true }), { minLength: n, maxLength: n }).map((a) => Float32Array.from(a));

export const crfCase = (limits: { B?: number; T?: number; C?: [number, number] } = {}): fc.Arbitrary<CrfCase> =>
  fc
    .record({ B: fc.integer({ min: 1, max: limits.B ?? 3 }), T: fc.integer({ min: 1, max: limits.T ?? 4 }), C: fc.integer({ min: limits.C?.[0] ?? 2, max: limits.C?.[1] ?? 4 }) })
    .chain(({ B, T, C }) =>
      fc.record({
        B: fc.constant(B),
        T: fc.constant(T),
        C: fc.constant(C),
        emissions: floats(B * T * C, 3),
        transitions: floats(C * C, 2),
        start: floats(C, 2),
        end: floats(C, 2),
        lengths: fc.array(fc.integer({ min: 1, max: T }), { minLength: B, maxLength: B }),
        weights: floats(B, 1.5),
      }),
    );

export function maskOf(c: CrfCase): Float32Array {
  return Float32Array.from({ length: c.B * c.T }, (_, i) => (i % c.T < c.lengths[Math.floor(i / c.T)]! ? 1 : 0));
}

export function maskRows(c: CrfCase): number[][] {
  return c.lengths.map((length) => Array.from({ length: c.T }, (_, t) => (t < length ? 1 : 0)));
}

export function scoresOf(c: CrfCase): Scores {
  return { emissions: c.emissions, transitions: c.transitions, start: c.start, end: c.end };
}

/** All C^length tag paths. */
export function allPaths(length: number, C: number): number[][] {
  let paths: number[][] = [[]];
  for (let t = 0; t < length; t++) paths = paths.flatMap((p) => Array.from({ length: C }, (_, j) => [...p, j]));
  return paths;
}

export function pathScore(c: CrfCase, s: Scores, b: number, path: number[]): number {
  let score = s.start[path[0]!]! + s.end[path[path.length - 1]!]!;
  path.forEach((tag, t) => {
    score += s.emissions[(b * c.T + t) * c.C + tag]!;
    if (t > 0) score += s.transitions[path[t - 1]! * c.C + tag]!;
  });
  return score;
}

export function logSumExp(values: number[]): number {
  const max = Math.max(...values);
  return max + Math.log(values.reduce((acc, v) => acc + Math.exp(v - max), 0));
}

/** log-sum of exp(score) over the paths of sequence b that `keep` accepts (all by default). */
export function bruteLogZ(c: CrfCase, s: Scores, b: number, keep: (path: number[]) => boolean = () => true): number {
  return logSumExp(allPaths(c.lengths[b]!, c.C).filter(keep).map((p) => pathScore(c, s, b, p)));
}

/** P(y_t = j) [B,T,C], 0 past each length. */
export function bruteMarginals(c: CrfCase, keep: (path: number[]) => boolean = () => true): Float64Array {
  const result = new Float64Array(c.B * c.T * c.C);
  for (let b = 0; b < c.B; b++) {
    const s = scoresOf(c);
    const logZ = bruteLogZ(c, s, b, keep);
    for (const p of allPaths(c.lengths[b]!, c.C).filter(keep)) {
      const probability = Math.exp(pathScore(c, s, b, p) - logZ);
      p.forEach((tag, t) => (result[(b * c.T + t) * c.C + tag]! += probability));
    }
  }
  return result;
}

/** Paths of sequence b by decreasing score. */
export function rankedPaths(c: CrfCase, b: number, keep: (path: number[]) => boolean = () => true): { path: number[]; score: number }[] {
  return allPaths(c.lengths[b]!, c.C)
    .filter(keep)
    .map((path) => ({ path, score: pathScore(c, scoresOf(c), b, path) }))
    .sort((x, y) => y.score - x.score);
}

/**
 * Central differences in float64 of f(scores) with respect to every score: an independent
 * gradient, exact to ~1e-8 because the brute-force function is computed in float64.
 */
export function finiteDifferences(c: CrfCase, f: (s: Scores) => number): { emissions: Float64Array; transitions: Float64Array; start: Float64Array; end: Float64Array } {
  const base = { emissions: Float64Array.from(c.emissions), transitions: Float64Array.from(c.transitions), start: Float64Array.from(c.start), end: Float64Array.from(c.end) };
  const h = 1e-5;
  const gradient = (key: keyof typeof base) =>
    base[key].map((value, i) => {
      const at = (delta: number) => {
        const copy = Float64Array.from(base[key]);
        copy[i] = value + delta;
        return f({ ...base, [key]: copy });
      };
      return (at(h) - at(-h)) / (2 * h);
    });
  return { emissions: gradient('emissions'), transitions: gradient('transitions'), start: gradient('start'), end: gradient('end') };
}

/** |actual - expected| <= tol * max(1, |expected|) elementwise, with the index of the first failure. */
export function expectClose(what: string, actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-4): void {
  if (actual.length !== expected.length) throw new Error(`${what}: length ${actual.length}, expected ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    const [a, e] = [actual[i]!, expected[i]!];
    if (!(Math.abs(a - e) <= tol * Math.max(1, Math.abs(e)))) throw new Error(`${what}[${i}]: got ${a}, expected ${e} (tolerance ${tol})`);
  }
}

/**
 * Run fn in a scope and read back the tensors it returns (null: an absent gradient, read as
 * empty), then dispose them. Reads are async, so the suites run on any backend.
 */
export async function read<K extends string>(fn: () => Record<K, Tensor | null>): Promise<Record<K, Float32Array>> {
  const tensors = tidy(fn);
  try {
    const entries = await Promise.all(Object.entries<Tensor | null>(tensors).map(async ([k, t]) => [k, t ? ((await t.data()) as Float32Array) : new Float32Array(0)] as const));
    return Object.fromEntries(entries) as Record<K, Float32Array>;
  } finally {
    for (const t of Object.values<Tensor | null>(tensors)) t?.dispose();
  }
}
