// The search space of `medner tune`: a JSON file mapping training settings to distributions,
//   { "lr": { "type": "loguniform", "low": 1e-4, "high": 1e-1 },
//     "dropout": { "type": "uniform", "low": 0, "high": 0.6 },
//     "batchSize": { "type": "int", "low": 4, "high": 32, "log": true },
//     "schedule": { "type": "categorical", "choices": ["linear", "cosine"] } }
// Keys are the --config keys; what a key may hold is checked again when a trial's config is built.

import { readFileSync } from 'node:fs';

export type Choice = string | number | boolean;
export type Distribution =
  | { type: 'uniform'; low: number; high: number }
  | { type: 'loguniform'; low: number; high: number }
  | { type: 'int'; low: number; high: number; log?: boolean }
  | { type: 'categorical'; choices: Choice[] };
export type SearchSpace = Record<string, Distribution>;
export type Params = Record<string, Choice>;

/** Check a parsed space; errors name the source and the key. */
export function checkSpace(value: unknown, source: string): SearchSpace {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${source}: a search space is a JSON object of setting -> distribution`);
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) throw new Error(`${source}: the search space is empty`);
  const space: SearchSpace = {};
  for (const [key, d] of entries) {
    const where = `${source}: "${key}"`;
    if (typeof d !== 'object' || d === null) throw new Error(`${where} must be an object with a "type"`);
    const spec = d as Record<string, unknown>;
    const type = spec.type;
    if (type === 'categorical') {
      const choices = spec.choices;
      if (!Array.isArray(choices) || choices.length === 0 || choices.some((c) => !['string', 'number', 'boolean'].includes(typeof c))) {
        throw new Error(`${where}: "choices" must be a non-empty array of strings, numbers or booleans`);
      }
      space[key] = { type, choices: choices as Choice[] };
      continue;
    }
    if (type !== 'uniform' && type !== 'loguniform' && type !== 'int') throw new Error(`${where}: "type" must be uniform, loguniform, int or categorical, got ${JSON.stringify(type)}`);
    const { low, high } = spec;
    if (typeof low !== 'number' || typeof high !== 'number' || !Number.isFinite(low) || !Number.isFinite(high) || !(low < high)) {
      throw new Error(`${where}: "low" and "high" must be numbers with low < high, got ${JSON.stringify(low)} and ${JSON.stringify(high)}`);
    }
    const log = type === 'loguniform' || spec.log === true;
    if (log && low <= 0) throw new Error(`${where}: a log scale needs low > 0, got ${low}`);
    if (type === 'int') {
      if (!Number.isInteger(low) || !Number.isInteger(high)) throw new Error(`${where}: an int range needs integer low and high`);
      space[key] = { type, low, high, log: spec.log === true };
    } else space[key] = { type, low, high };
  }
  return space;
}

export function readSpace(path: string): SearchSpace {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new Error(`${path}: cannot read the search space file`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`${path}: invalid JSON (${(error as Error).message})`);
  }
  return checkSpace(value, path);
}

/** Numeric distributions live in an internal space: log for log scales, and ints widened by 0.5 each side. */
export function internalRange(d: Exclude<Distribution, { type: 'categorical' }>): { low: number; high: number; log: boolean } {
  const log = d.type === 'loguniform' || (d.type === 'int' && d.log === true);
  const [low, high] = d.type === 'int' ? [d.low - 0.5, d.high + 0.5] : [d.low, d.high];
  // A log-scale int has low >= 1, so low - 0.5 > 0.
  return log ? { low: Math.log(low), high: Math.log(high), log } : { low, high, log };
}

/** Internal value -> the setting's value (rounded and clamped for ints). */
export function fromInternal(d: Exclude<Distribution, { type: 'categorical' }>, x: number): number {
  const { log } = internalRange(d);
  const v = log ? Math.exp(x) : x;
  if (d.type === 'int') return Math.min(d.high, Math.max(d.low, Math.round(v)));
  return Math.min(d.high, Math.max(d.low, v));
}

export function toInternal(d: Exclude<Distribution, { type: 'categorical' }>, v: number): number {
  return internalRange(d).log ? Math.log(v) : v;
}
