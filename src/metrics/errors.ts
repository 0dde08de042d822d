// Error analysis of predicted entities against gold: each gold entity is correct, missed, or matched by an
// overlapping prediction with the wrong type, the wrong boundary, or both; predictions overlapping no gold
// entity are spurious. Counts plus a few examples of each.

import { extractEntities, type EntityOptions, type ScoredEntity } from './entities.js';

export type ErrorKind = 'missed' | 'spurious' | 'wrongType' | 'wrongBoundary' | 'wrongTypeAndBoundary';

export interface ErrorExample {
  kind: ErrorKind;
  sentence: number;
  gold?: ScoredEntity;
  predicted?: ScoredEntity;
  /** "gold text [TYPE] -> predicted text [TYPE]" when tokens were given. */
  description: string;
}

export interface ErrorAnalysis {
  correct: number;
  counts: Record<ErrorKind, number>;
  examples: Record<ErrorKind, ErrorExample[]>;
}

export interface ErrorAnalysisOptions extends EntityOptions {
  /** Examples kept per kind (default 5). */
  maxExamples?: number;
  /** Tokens per sentence, to show entity text in examples. */
  tokens?: readonly (readonly string[])[];
}

const overlaps = (a: ScoredEntity, b: ScoredEntity) => a.start < b.end && b.start < a.end;
const sameSpan = (a: ScoredEntity, b: ScoredEntity) => a.start === b.start && a.end === b.end;

export function analyzeErrors(gold: readonly (readonly string[])[], predicted: readonly (readonly string[])[], options: ErrorAnalysisOptions = {}): ErrorAnalysis {
  if (gold.length !== predicted.length) throw new Error(`analyzeErrors: ${gold.length} gold sentences but ${predicted.length} predicted`);
  const kinds: ErrorKind[] = ['missed', 'spurious', 'wrongType', 'wrongBoundary', 'wrongTypeAndBoundary'];
  const result: ErrorAnalysis = {
    correct: 0,
    counts: Object.fromEntries(kinds.map((k) => [k, 0])) as Record<ErrorKind, number>,
    examples: Object.fromEntries(kinds.map((k) => [k, []])) as unknown as Record<ErrorKind, ErrorExample[]>,
  };
  const maxExamples = options.maxExamples ?? 5;
  const show = (e: ScoredEntity | undefined) =>
    e ? `${options.tokens ? options.tokens[e.sentence]!.slice(e.start, e.end).join(' ') : `${e.start}-${e.end}`} [${e.type}]` : '(none)';
  const record = (kind: ErrorKind, sentence: number, g?: ScoredEntity, p?: ScoredEntity) => {
    result.counts[kind]++;
    if (result.examples[kind].length < maxExamples) result.examples[kind].push({ kind, sentence, gold: g, predicted: p, description: `${show(g)} -> ${show(p)}` });
  };
  // Entities grouped by sentence once (in their order): a filter per sentence made the whole analysis quadratic.
  const bySentence = (entities: ScoredEntity[]) => {
    const groups: ScoredEntity[][] = Array.from({ length: gold.length }, () => []);
    for (const e of entities) groups[e.sentence]!.push(e);
    return groups;
  };
  const goldBySentence = bySentence(extractEntities(gold, options));
  const predictedBySentence = bySentence(extractEntities(predicted, options));
  for (let s = 0; s < gold.length; s++) {
    const goldHere = goldBySentence[s]!;
    const predictedHere = predictedBySentence[s]!;
    const explained = new Set<ScoredEntity>();
    const unmatchedGold: ScoredEntity[] = [];
    for (const g of goldHere) {
      const exact = predictedHere.find((p) => sameSpan(p, g) && p.type === g.type);
      if (exact) {
        result.correct++;
        explained.add(exact);
      } else unmatchedGold.push(g);
    }
    for (const g of unmatchedGold) {
      const candidates = predictedHere.filter((p) => overlaps(p, g) && !(explained.has(p) && goldHere.some((o) => sameSpan(o, p) && o.type === p.type)));
      const sameSpanOtherType = candidates.find((p) => sameSpan(p, g));
      const sameTypeOtherSpan = candidates.find((p) => p.type === g.type);
      const chosen = sameSpanOtherType ?? sameTypeOtherSpan ?? candidates[0];
      if (!chosen) record('missed', s, g);
      else {
        record(sameSpanOtherType ? 'wrongType' : sameTypeOtherSpan ? 'wrongBoundary' : 'wrongTypeAndBoundary', s, g, chosen);
        for (const p of candidates) explained.add(p);
      }
    }
    for (const p of predictedHere) if (!explained.has(p)) record('spurious', s, undefined, p);
  }
  return result;
}

/** A few lines summarising an ErrorAnalysis, with examples. */
export function formatErrorAnalysis(analysis: ErrorAnalysis): string {
  const lines = [`correct: ${analysis.correct}`];
  for (const [kind, count] of Object.entries(analysis.counts) as [ErrorKind, number][]) {
    lines.push(`${kind}: ${count}`);
    for (const example of analysis.examples[kind]) lines.push(`  sentence ${example.sentence}: ${example.description}`);
  }
  return lines.join('\n') + '\n';
}
