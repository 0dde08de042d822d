// Recycled Float32Array buffers for the CPU backend's kernel outputs. A fresh ArrayBuffer per
// op makes V8 count external memory and run a full mark-compact every ~60 ms of training
// (`node --trace-gc`: a tenth of a BiLSTM-CRF step); buffers the backend frees come back here
// instead. Capacities are rounded up to eighths of a power of two (at most 12.5% slack), and an
// array is handed out as a zero-filled view of exactly the size asked for, as `new` would give.

/** Smaller arrays are cheap to allocate and are not pooled. */
const MIN_POOLED = 1024;
/** The most the pool holds while nothing uses it; past it, freed buffers are left to the GC. */
const MAX_POOLED_BYTES = 256 * 1024 * 1024;

const free = new Map<number, ArrayBuffer[]>();
/** The views allocF32 handed out: only these are taken back (never a subarray or a caller's array). */
const issued = new WeakSet<Float32Array>();
let pooledBytes = 0;

/** n rounded up to one of 8 steps per power of two. */
function capacityFor(n: number): number {
  const step = 2 ** Math.max(0, Math.floor(Math.log2(n)) - 3);
  return Math.ceil(n / step) * step;
}

/**
 * A Float32Array of length n, from the pool where one fits: zero-filled, as `new` gives, unless
 * `overwritten` says the caller writes every element (then a reused buffer keeps stale values).
 */
export function allocF32(n: number, overwritten = false): Float32Array {
  if (n < MIN_POOLED) return new Float32Array(n);
  const capacity = capacityFor(n);
  const buffer = free.get(capacity)?.pop();
  let view: Float32Array;
  if (buffer) {
    pooledBytes -= buffer.byteLength;
    view = new Float32Array(buffer, 0, n);
    if (!overwritten) view.fill(0);
  } else {
    view = new Float32Array(new ArrayBuffer(capacity * 4), 0, n);
  }
  issued.add(view);
  return view;
}

/** Give an array from allocF32 back; anything else (and a second release) is ignored. */
export function releaseF32(view: Float32Array | Int32Array): void {
  if (!(view instanceof Float32Array) || !issued.has(view)) return;
  issued.delete(view);
  const buffer = view.buffer as ArrayBuffer;
  if (pooledBytes + buffer.byteLength > MAX_POOLED_BYTES) return;
  const capacity = buffer.byteLength / 4;
  let list = free.get(capacity);
  if (!list) free.set(capacity, (list = []));
  list.push(buffer);
  pooledBytes += buffer.byteLength;
}

/** Bytes held for reuse (tests; peak-memory accounting). */
export function pooledByteCount(): number {
  return pooledBytes;
}
