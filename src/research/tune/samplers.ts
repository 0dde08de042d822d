// Samplers of `medner tune`: random search, and the Tree-structured Parzen Estimator
// (Bergstra et al. 2011) with Optuna's defaults (TPESampler: 10 random startup trials, 24
// candidates, gamma(n) = min(ceil(0.1 n), 25), prior weight 1, "magic clip" bandwidths,
// univariate). TPE splits the finished trials into the best gamma(n) ("below") and the rest
// ("above"), fits a Parzen estimator l(x) to below and g(x) to above for each setting, draws
// candidates from l and keeps the one with the largest l(x) / g(x). Pruned trials count as
// "above" (Optuna ranks them below every complete trial). Larger values are better (dev F1).

import { Rng } from '../../tensor/random.js';
import { fromInternal, internalRange, toInternal, type Choice, type Distribution, type Params, type SearchSpace } from './space.js';

export interface FinishedTrial {
  params: Params;
  state: 'complete' | 'pruned' | 'failed';
  /** The objective (best dev F1) of a complete trial; the last reported one of a pruned trial. */
  value: number | null;
}

export interface Sampler {
  readonly name: string;
  /** Settings for trial `number`, given the trials before it. Deterministic in (seed, number, history). */
  sample(space: SearchSpace, history: readonly FinishedTrial[], number: number): Params;
}

function sampleUniform(d: Distribution, rng: Rng): Choice {
  if (d.type === 'categorical') return d.choices[Math.floor(rng.next() * d.choices.length)]!;
  const { low, high } = internalRange(d);
  return fromInternal(d, low + (high - low) * rng.next());
}

export class RandomSampler implements Sampler {
  readonly name = 'random';
  constructor(readonly seed = 0) {}
  sample(space: SearchSpace, _history: readonly FinishedTrial[], number: number): Params {
    const rng = new Rng((this.seed * 100_003 + number) >>> 0);
    return Object.fromEntries(Object.entries(space).map(([k, d]) => [k, sampleUniform(d, rng)]));
  }
}

export interface TpeOptions {
  seed?: number;
  /** Random trials before TPE starts (Optuna: 10). */
  startupTrials?: number;
  /** Candidates drawn from l(x) per setting (Optuna: 24). */
  candidates?: number;
  /** Weight of the prior component (Optuna: 1). */
  priorWeight?: number;
}

/** Optuna's default gamma: how many trials go to "below". */
export const defaultGamma = (n: number) => Math.min(Math.ceil(0.1 * n), 25);

/** Optuna's default_weights: equal for up to 25 observations, else a ramp up to 1 for the last 25. */
export function defaultWeights(n: number): number[] {
  if (n === 0) return [];
  if (n < 25) return new Array(n).fill(1);
  const ramp = Array.from({ length: n - 25 }, (_, i) => 1 / n + ((1 - 1 / n) * i) / Math.max(1, n - 25 - 1));
  return [...ramp, ...new Array(25).fill(1)];
}

const SQRT2 = Math.SQRT2;
function erf(x: number): number {
  // Abramowitz & Stegun 7.1.26 is too coarse for tails; use a continued series via erfc.
  const t = 1 / (1 + 0.5 * Math.abs(x));
  const y = 1 - t * Math.exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? y : -y;
}
const normalCdf = (x: number) => 0.5 * (1 + erf(x / SQRT2));

/** A mixture of Gaussians truncated to [low, high]. */
export class ParzenEstimator {
  constructor(readonly weights: number[], readonly mus: number[], readonly sigmas: number[], readonly low: number, readonly high: number) {}

  /**
   * Optuna's univariate estimator: one component per observation plus the prior (mean the
   * centre, sigma the range); each sigma the larger distance to its sorted neighbours, clipped to
   * [(high - low) / min(100, 1 + n), high - low] ("magic clip").
   */
  static fit(observations: number[], low: number, high: number, priorWeight: number): ParzenEstimator {
    const n = observations.length;
    const prior = { mu: 0.5 * (low + high), sigma: high - low };
    const weights = [...defaultWeights(n), priorWeight];
    const total = weights.reduce((s, w) => s + w, 0);
    const order = [...observations.map((mu, i) => ({ mu, i })), { mu: prior.mu, i: n }].sort((a, b) => a.mu - b.mu);
    const sigmas = new Array<number>(n + 1);
    order.forEach((o, k) => {
      const left = k > 0 ? o.mu - order[k - 1]!.mu : o.mu - low;
      const right = k < order.length - 1 ? order[k + 1]!.mu - o.mu : high - o.mu;
      sigmas[o.i] = Math.max(left, right);
    });
    sigmas[n] = prior.sigma;
    const minSigma = (high - low) / Math.min(100, 1 + n);
    const clipped = sigmas.map((s, i) => (i === n ? s : Math.min(high - low, Math.max(minSigma, s))));
    return new ParzenEstimator(weights.map((w) => w / total), [...observations, prior.mu], clipped, low, high);
  }

  sample(rng: Rng): number {
    let r = rng.next();
    let k = 0;
    while (k < this.weights.length - 1 && r >= this.weights[k]!) r -= this.weights[k++]!;
    // Rejection sampling of the truncated normal (the bounds hold most of the mass: sigma <= range).
    for (let tries = 0; tries < 1000; tries++) {
      const x = this.mus[k]! + this.sigmas[k]! * rng.normal();
      if (x >= this.low && x <= this.high) return x;
    }
    return Math.min(this.high, Math.max(this.low, this.mus[k]!));
  }

  logPdf(x: number): number {
    let total = 0;
    this.weights.forEach((w, k) => {
      const [mu, sigma] = [this.mus[k]!, this.sigmas[k]!];
      const mass = normalCdf((this.high - mu) / sigma) - normalCdf((this.low - mu) / sigma);
      const z = (x - mu) / sigma;
      total += (w * Math.exp(-0.5 * z * z)) / (sigma * Math.sqrt(2 * Math.PI) * Math.max(mass, 1e-12));
    });
    return Math.log(Math.max(total, 1e-300));
  }
}

export class TpeSampler implements Sampler {
  readonly name = 'tpe';
  readonly startupTrials: number;
  readonly candidates: number;
  readonly priorWeight: number;
  readonly seed: number;
  private readonly random: RandomSampler;

  constructor(options: TpeOptions = {}) {
    this.seed = options.seed ?? 0;
    this.startupTrials = options.startupTrials ?? 10;
    this.candidates = options.candidates ?? 24;
    this.priorWeight = options.priorWeight ?? 1;
    this.random = new RandomSampler(this.seed);
  }

  sample(space: SearchSpace, history: readonly FinishedTrial[], number: number): Params {
    const finished = history.filter((t) => t.state !== 'failed' && t.value !== null);
    if (finished.filter((t) => t.state === 'complete').length < this.startupTrials) return this.random.sample(space, history, number);
    const rng = new Rng((this.seed * 100_003 + number + 0x5bd1e995) >>> 0);
    // Complete trials best first, then pruned ones (their last value ranks them among themselves).
    const ranked = [
      ...finished.filter((t) => t.state === 'complete').sort((a, b) => b.value! - a.value!),
      ...finished.filter((t) => t.state === 'pruned').sort((a, b) => b.value! - a.value!),
    ];
    const nBelow = defaultGamma(ranked.length);
    // Observation order matters to the weights (older ones weigh less past 25): keep trial order.
    const inOrder = (set: FinishedTrial[]) => finished.filter((t) => set.includes(t));
    const below = inOrder(ranked.slice(0, nBelow));
    const above = inOrder(ranked.slice(nBelow));
    const params: Params = {};
    for (const [key, d] of Object.entries(space)) {
      const seen = (set: FinishedTrial[]) => set.filter((t) => key in t.params);
      const [b, a] = [seen(below), seen(above)];
      if (d.type === 'categorical') {
        params[key] = this.sampleCategorical(d.choices, b.map((t) => t.params[key]!), a.map((t) => t.params[key]!), rng);
        continue;
      }
      const { low, high } = internalRange(d);
      const l = ParzenEstimator.fit(b.map((t) => toInternal(d, t.params[key] as number)), low, high, this.priorWeight);
      const g = ParzenEstimator.fit(a.map((t) => toInternal(d, t.params[key] as number)), low, high, this.priorWeight);
      let best = l.sample(rng);
      let bestScore = -Infinity;
      for (let i = 0; i < this.candidates; i++) {
        const x = i === 0 ? best : l.sample(rng);
        const score = l.logPdf(x) - g.logPdf(x);
        if (score > bestScore) [best, bestScore] = [x, score];
      }
      params[key] = fromInternal(d, best);
    }
    return params;
  }

  /** Weighted counts plus the prior spread evenly over the choices, for l and g; the best ratio of candidates drawn from l. */
  private sampleCategorical(choices: Choice[], below: Choice[], above: Choice[], rng: Rng): Choice {
    const weightsOf = (observed: Choice[]) => {
      const w = new Array<number>(choices.length).fill(this.priorWeight / choices.length);
      defaultWeights(observed.length).forEach((weight, i) => {
        const k = choices.indexOf(observed[i]!);
        if (k >= 0) w[k]! += weight;
      });
      const total = w.reduce((s, v) => s + v, 0);
      return w.map((v) => v / total);
    };
    const [l, g] = [weightsOf(below), weightsOf(above)];
    let best = 0;
    let bestScore = -Infinity;
    for (let i = 0; i < this.candidates; i++) {
      let r = rng.next();
      let k = 0;
      while (k < l.length - 1 && r >= l[k]!) r -= l[k++]!;
      const score = Math.log(l[k]!) - Math.log(g[k]!);
      if (score > bestScore) [best, bestScore] = [k, score];
    }
    return choices[best]!;
  }
}

export function createSampler(name: string, seed: number): Sampler {
  if (name === 'tpe') return new TpeSampler({ seed });
  if (name === 'random') return new RandomSampler(seed);
  throw new Error(`--sampler must be tpe or random, got '${name}'`);
}
