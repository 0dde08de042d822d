// Entity-level precision, recall and F1 as seqeval computes them (per type, micro, macro, weighted averages),
// token accuracy, and a plain-text report laid out like seqeval's classification_report.

import { extractEntities, type EntityOptions, type ScoredEntity } from './entities.js';

export interface TypeScores {
  precision: number;
  recall: number;
  f1: number;
  /** Number of gold entities. */
  support: number;
  truePositives: number;
  predicted: number;
}

export interface EntityScores {
  perType: Map<string, TypeScores>;
  micro: TypeScores;
  macro: TypeScores;
  weighted: TypeScores;
}

const key = (e: ScoredEntity) => `${e.sentence}\t${e.start}\t${e.end}`;

/** seqeval's zero_division default: an undefined ratio counts as 0. */
function ratio(numerator: number, denominator: number): number {
  return denominator === 0 ? 0 : numerator / denominator;
}

function scoresFromCounts(truePositives: number, predicted: number, support: number): TypeScores {
  const precision = ratio(truePositives, predicted);
  const recall = ratio(truePositives, support);
  return { precision, recall, f1: ratio(2 * precision * recall, precision + recall), support, truePositives, predicted };
}

function checkShapes(gold: readonly (readonly string[])[], predicted: readonly (readonly string[])[]) {
  if (gold.length !== predicted.length) throw new Error(`metrics: ${gold.length} gold sentences but ${predicted.length} predicted`);
  gold.forEach((g, i) => {
    if (g.length !== predicted[i]!.length) throw new Error(`metrics: sentence ${i} has ${g.length} gold tags but ${predicted[i]!.length} predicted`);
  });
}

export function entityScores(gold: readonly (readonly string[])[], predicted: readonly (readonly string[])[], options: EntityOptions = {}): EntityScores {
  checkShapes(gold, predicted);
  const goldByType = groupByType(extractEntities(gold, options));
  const predictedByType = groupByType(extractEntities(predicted, options));
  const types = [...new Set([...goldByType.keys(), ...predictedByType.keys()])].sort();
  const perType = new Map<string, TypeScores>();
  let tp = 0;
  let pred = 0;
  let support = 0;
  for (const type of types) {
    const goldSet = goldByType.get(type) ?? new Set<string>();
    const predictedSet = predictedByType.get(type) ?? new Set<string>();
    let hits = 0;
    for (const k of predictedSet) if (goldSet.has(k)) hits++;
    perType.set(type, scoresFromCounts(hits, predictedSet.size, goldSet.size));
    tp += hits;
    pred += predictedSet.size;
    support += goldSet.size;
  }
  const rows = [...perType.values()];
  const mean = (pick: (s: TypeScores) => number, weight: (s: TypeScores) => number) => {
    const total = rows.reduce((sum, s) => sum + weight(s), 0);
    return ratio(rows.reduce((sum, s) => sum + pick(s) * weight(s), 0), total);
  };
  const averaged = (weight: (s: TypeScores) => number): TypeScores => ({
    precision: mean((s) => s.precision, weight),
    recall: mean((s) => s.recall, weight),
    f1: mean((s) => s.f1, weight),
    support,
    truePositives: tp,
    predicted: pred,
  });
  return { perType, micro: scoresFromCounts(tp, pred, support), macro: averaged(() => 1), weighted: averaged((s) => s.support) };
}

function groupByType(entities: ScoredEntity[]): Map<string, Set<string>> {
  const byType = new Map<string, Set<string>>();
  for (const e of entities) {
    if (!byType.has(e.type)) byType.set(e.type, new Set());
    byType.get(e.type)!.add(key(e));
  }
  return byType;
}

export const f1Score = (gold: readonly (readonly string[])[], predicted: readonly (readonly string[])[], options: EntityOptions = {}) =>
  entityScores(gold, predicted, options).micro.f1;
export const precisionScore = (gold: readonly (readonly string[])[], predicted: readonly (readonly string[])[], options: EntityOptions = {}) =>
  entityScores(gold, predicted, options).micro.precision;
export const recallScore = (gold: readonly (readonly string[])[], predicted: readonly (readonly string[])[], options: EntityOptions = {}) =>
  entityScores(gold, predicted, options).micro.recall;

/** Share of tokens whose predicted tag equals the gold tag (seqeval accuracy_score). */
export function tokenAccuracy(gold: readonly (readonly string[])[], predicted: readonly (readonly string[])[]): number {
  checkShapes(gold, predicted);
  let correct = 0;
  let total = 0;
  gold.forEach((g, i) => g.forEach((tag, j) => {
    total++;
    if (predicted[i]![j] === tag) correct++;
  }));
  return ratio(correct, total);
}

/** The text of seqeval.metrics.classification_report(y_true, y_pred, digits). */
export function classificationReport(scores: EntityScores, digits = 2): string {
  const averages: [string, TypeScores][] = [['micro avg', scores.micro], ['macro avg', scores.macro], ['weighted avg', scores.weighted]];
  const names = [...scores.perType.keys()];
  const width = Math.max(...names.map((n) => n.length), 'weighted avg'.length, digits);
  const headers = ['precision', 'recall', 'f1-score', 'support'];
  const row = (name: string, s: TypeScores) =>
    `${name.padStart(width)}  ${[s.precision, s.recall, s.f1].map((v) => v.toFixed(digits).padStart(9)).join(' ')} ${String(s.support).padStart(9)}`;
  const lines = [`${''.padStart(width)}  ${headers.map((h) => h.padStart(9)).join(' ')}`, ''];
  for (const [name, s] of scores.perType) lines.push(row(name, s));
  lines.push('');
  for (const [name, s] of averages) lines.push(row(name, s));
  return lines.join('\n') + '\n';
}
