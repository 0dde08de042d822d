// Pruners of `medner tune`, fed the dev F1 after every epoch. The median pruner is Optuna's
// MedianPruner with its defaults (5 startup trials, no warmup steps, every step, at least one
// trial reporting the step): a trial is stopped after epoch s when its best dev F1 so far is
// below the median of the complete trials' dev F1 at epoch s.

export interface PrunerTrial {
  state: 'complete' | 'pruned' | 'failed';
  /** Dev F1 after each epoch (index 0 = epoch 1). */
  values: number[];
}

export interface Pruner {
  readonly name: string;
  /** Should the running trial stop, given its values so far (epoch = values.length)? */
  shouldPrune(values: readonly number[], history: readonly PrunerTrial[]): boolean;
}

export class NopPruner implements Pruner {
  readonly name = 'none';
  shouldPrune(): boolean {
    return false;
  }
}

export interface MedianPrunerOptions {
  startupTrials?: number;
  warmupSteps?: number;
  minTrials?: number;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : 0.5 * (sorted[mid - 1]! + sorted[mid]!);
}

export class MedianPruner implements Pruner {
  readonly name = 'median';
  readonly startupTrials: number;
  readonly warmupSteps: number;
  readonly minTrials: number;
  constructor(options: MedianPrunerOptions = {}) {
    this.startupTrials = options.startupTrials ?? 5;
    this.warmupSteps = options.warmupSteps ?? 0;
    this.minTrials = options.minTrials ?? 1;
  }

  shouldPrune(values: readonly number[], history: readonly PrunerTrial[]): boolean {
    const step = values.length;
    if (step === 0 || step <= this.warmupSteps) return false;
    const complete = history.filter((t) => t.state === 'complete');
    if (complete.length < this.startupTrials) return false;
    const atStep = complete.filter((t) => t.values.length >= step).map((t) => t.values[step - 1]!);
    if (atStep.length < this.minTrials) return false;
    const best = Math.max(...values);
    return best < median(atStep);
  }
}

export function createPruner(name: string): Pruner {
  if (name === 'median') return new MedianPruner();
  if (name === 'none') return new NopPruner();
  throw new Error(`--pruner must be median or none, got '${name}'`);
}
