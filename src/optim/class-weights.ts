// Class weights for weighted losses (cross-entropy's `weight`): rare entity tags
// count more, so a model does not learn to answer O everywhere.

export interface ClassWeightOptions {
  /** 1: inverse frequency; 0.5: inverse square root (milder); 0: uniform. */
  power?: number;
  /** Added to every count before inverting (Laplace smoothing). */
  smoothing?: number;
  /** Upper bound on a weight after normalisation, so a tag seen twice cannot dominate. */
  maxWeight?: number;
  /**
   * 'frequency' (default): scale so that sum_c count_c * w_c = total count, i.e. the
   * loss keeps its scale; with power 1 this is scikit-learn's 'balanced' N / (C n_c).
   * 'mean': the weights average 1 over the classes. 'none': raw count^-power.
   */
  normalize?: 'frequency' | 'mean' | 'none';
}

/** Occurrences of each tag id in 0..numTags-1; ids equal to ignoreIndex (padding) are skipped. */
export function countTags(sequences: Iterable<ArrayLike<number>>, numTags: number, ignoreIndex = -100): number[] {
  const counts = new Array<number>(numTags).fill(0);
  for (const sequence of sequences) {
    for (let i = 0; i < sequence.length; i++) {
      const tag = sequence[i]!;
      if (tag === ignoreIndex) continue;
      if (!Number.isInteger(tag) || tag < 0 || tag >= numTags) throw new Error(`countTags: tag id ${tag} is outside 0..${numTags - 1}`);
      counts[tag]!++;
    }
  }
  return counts;
}

/**
 * Inverse-frequency weights from per-class counts. A class with count 0 (and no
 * smoothing) gets the largest weight of the others: it was never seen, so it is
 * at least as rare as the rarest seen class.
 */
export function inverseFrequencyWeights(counts: ArrayLike<number>, options: ClassWeightOptions = {}): Float32Array {
  const power = options.power ?? 1;
  const smoothing = options.smoothing ?? 0;
  const normalize = options.normalize ?? 'frequency';
  const n = counts.length;
  if (n === 0) throw new Error('inverseFrequencyWeights: no classes');
  const smoothed = Array.from(counts, (c, i) => {
    if (!(c >= 0)) throw new Error(`inverseFrequencyWeights: count of class ${i} is ${c}`);
    return c + smoothing;
  });
  const total = smoothed.reduce((a, b) => a + b, 0);
  if (total === 0) throw new Error('inverseFrequencyWeights: every count is 0');
  const raw = smoothed.map((c) => (c > 0 ? c ** -power : NaN));
  const largest = Math.max(...raw.filter((w) => !Number.isNaN(w)));
  const weights = raw.map((w) => (Number.isNaN(w) ? largest : w));
  let scale = 1;
  if (normalize === 'frequency') scale = total / weights.reduce((s, w, i) => s + w * smoothed[i]!, 0);
  else if (normalize === 'mean') scale = n / weights.reduce((a, b) => a + b, 0);
  const cap = options.maxWeight ?? Infinity;
  return Float32Array.from(weights, (w) => Math.min(cap, w * scale));
}
