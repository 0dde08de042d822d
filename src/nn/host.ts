// Host-side reads of small index tensors (lengths, word starts, tags) for input checks
// and for building gather indices. Only the CPU backend reads synchronously; callers on
// an asynchronous backend pass the host arrays themselves (e.g. NerBatch.lengths).

import type { Tensor } from '../tensor/tensor.js';
import type { TypedArray } from '../backend/backend.js';
import { fmt } from '../tensor/shape.js';

/** The values of `t`, or null when its backend cannot read synchronously (WebGPU). */
export function readHost(t: Tensor): TypedArray | null {
  return t.backend.readSync ? t.dataSync() : null;
}

/** Like readHost, but a missing synchronous read is an error naming who needed it. */
export function requireHost(t: Tensor, who: string, what: string): TypedArray {
  const values = readHost(t);
  if (!values) throw new Error(`${who}: needs ${what} ${fmt(t.shape)} on the host, but the ${t.backend.name} backend reads asynchronously; pass it as a host array`);
  return values;
}

/** Sequence lengths from a prefix mask [B, T] (1 = real token); checks that it is a prefix of ones. */
export function lengthsFromMask(mask: ArrayLike<number>, batch: number, steps: number, who: string): number[] {
  const lengths: number[] = [];
  for (let b = 0; b < batch; b++) {
    let length = 0;
    for (let t = 0; t < steps; t++) {
      const m = mask[b * steps + t]!;
      if (m !== 0 && m !== 1) throw new Error(`${who}: mask[${b}][${t}] is ${m}; a mask holds only 0 and 1`);
      if (m === 1) {
        if (length !== t) throw new Error(`${who}: mask row ${b} has a 1 at position ${t} after a 0 at position ${length}; masks must be a prefix of ones (left-aligned sequences)`);
        length++;
      }
    }
    if (length === 0) throw new Error(`${who}: mask row ${b} starts with 0; every sequence needs its first position on (an empty sequence cannot be tagged)`);
    lengths.push(length);
  }
  return lengths;
}

export function checkRank(who: string, what: string, t: Tensor, rank: number, dtype?: 'f32' | 'i32'): void {
  if (t.rank !== rank) throw new Error(`${who}: ${what} must have rank ${rank}, got ${fmt(t.shape)}`);
  if (dtype && t.dtype !== dtype) throw new Error(`${who}: ${what} must be ${dtype}, got ${t.dtype} ${fmt(t.shape)}`);
}
