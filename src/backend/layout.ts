// Layout arithmetic both backends share.

/**
 * Drop size-1 dimensions and merge neighbours that are contiguous in every operand,
 * so a same-shape elementwise op becomes rank 1 and a broadcast [N, D] + [D] rank 2, and a
 * concat, slice or permute of a big tensor a few long runs: fewer divisions per element in a
 * WGSL kernel, longer inner loops on the CPU.
 */
export function mergeDimensions(shape: readonly number[], strideSets: readonly (readonly number[])[]): { shape: number[]; strides: number[][] } {
  const mergedShape: number[] = [];
  const merged: number[][] = strideSets.map(() => []);
  for (let d = shape.length - 1; d >= 0; d--) {
    const extent = shape[d]!;
    if (extent === 1) continue;
    const last = mergedShape.length - 1;
    if (last >= 0 && strideSets.every((s, k) => s[d] === merged[k]![last]! * mergedShape[last]!)) {
      mergedShape[last]! *= extent;
      continue;
    }
    mergedShape.push(extent);
    strideSets.forEach((s, k) => merged[k]!.push(s[d]!));
  }
  if (mergedShape.length === 0) return { shape: [1], strides: strideSets.map(() => [0]) };
  return { shape: mergedShape.reverse(), strides: merged.map((s) => s.reverse()) };
}

