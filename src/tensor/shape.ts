// Shape arithmetic shared by every op: sizes, strides, NumPy broadcasting, axis checks.
// Errors name the op and the shapes, so a failure deep in a model says where it came from.

export type Shape = readonly number[];

export function shapeSize(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major (C order) strides. */
export function contiguousStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

export function fmt(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** NumPy broadcasting: align from the right; a size-1 dimension stretches. */
export function broadcastShapes(op: string, ...shapes: Shape[]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const o = rank - s.length + i;
      const d = s[i]!;
      if (out[o] === 1) out[o] = d;
      else if (d !== 1 && d !== out[o]) {
        throw new Error(`${op}: shapes ${shapes.map(fmt).join(' and ')} cannot be broadcast together`);
      }
    }
  }
  return out;
}

/** Strides that read `shape` as if it had `outShape` (0 on stretched or missing dimensions). */
export function broadcastStrides(shape: Shape, outShape: Shape): number[] {
  const strides = contiguousStrides(shape);
  const out = new Array<number>(outShape.length).fill(0);
  for (let i = 0; i < shape.length; i++) {
    const o = outShape.length - shape.length + i;
    out[o] = shape[i] === 1 && outShape[o] !== 1 ? 0 : strides[i]!;
  }
  return out;
}

export function normalizeAxis(op: string, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= Math.max(rank, 1)) {
    throw new Error(`${op}: axis ${axis} is out of range for a tensor of rank ${rank}`);
  }
  return a;
}

/** [outer, axis, inner] around one axis, the layout reductions and softmax kernels take. */
export function axisLayout(shape: Shape, axis: number): { outer: number; axis: number; inner: number } {
  let outer = 1;
  let inner = 1;
  for (let i = 0; i < axis; i++) outer *= shape[i]!;
  for (let i = axis + 1; i < shape.length; i++) inner *= shape[i]!;
  return { outer, axis: shape[axis] ?? 1, inner };
}

/** The shape of a tensor about to be created (every creation function checks it before allocating). */
export function checkShape(op: string, shape: Shape): number[] {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`${op}: invalid shape ${fmt(shape)}`);
  }
  if (allocationLimit) reserve(allocationLimit, shapeSize(shape));
  return [...shape];
}

interface AllocationLimit {
  remaining: number;
  refuse: (wanted: number) => Error;
}
let allocationLimit: AllocationLimit | null = null;

function reserve(limit: AllocationLimit, elements: number): void {
  if (elements > limit.remaining) throw limit.refuse(elements);
  limit.remaining -= elements;
}

/**
 * Run `build` (synchronous) refusing any tensor creation that takes the total past `elements` values, before
 * its memory is asked for: a model built from an untrusted config (a checkpoint's config.json) cannot allocate
 * more than its weights file could fill. `refuse` makes the error.
 */
export function withAllocationLimit<T>(elements: number, refuse: (wanted: number) => Error, build: () => T): T {
  const outer = allocationLimit;
  allocationLimit = { remaining: elements, refuse };
  try {
    return build();
  } finally {
    allocationLimit = outer;
  }
}
