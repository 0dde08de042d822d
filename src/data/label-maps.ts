// Label maps over a corpus: collapse entity types (e.g. SpecificDisease, DiseaseClass -> Disease), drop types,
// and group types rarer than a threshold under "Other". Works on spans so the result stays a valid sequence.

import { spansToTags, tagsToSpans, type LabelScheme } from './schemes.js';
import type { Sentence } from './types.js';

/** A type mapping; mapping a type to 'O' (or null) removes its entities. */
export type TypeMapping = Readonly<Record<string, string | null>> | ((type: string) => string | null);

export function mapEntityTypes(sentences: readonly Sentence[], mapping: TypeMapping, scheme: LabelScheme = 'iob2'): Sentence[] {
  const lookup = typeof mapping === 'function' ? mapping : (type: string) => (type in mapping ? mapping[type]! : type);
  return sentences.map((sentence) => {
    const spans = tagsToSpans(sentence.tags, scheme).flatMap((span) => {
      const type = lookup(span.type);
      return type === null || type === 'O' ? [] : [{ ...span, type }];
    });
    // Collapsing can make two adjacent entities the same type; spansToTags keeps them apart with B-.
    return { ...sentence, tags: spansToTags(spans, sentence.tokens.length, scheme) };
  });
}

export function countEntityTypes(sentences: readonly Sentence[], scheme: LabelScheme = 'iob2'): Map<string, number> {
  const counts = new Map<string, number>();
  for (const sentence of sentences) for (const span of tagsToSpans(sentence.tags, scheme)) counts.set(span.type, (counts.get(span.type) ?? 0) + 1);
  return counts;
}

export interface RareTypeResult {
  sentences: Sentence[];
  /** Types that were grouped, with their counts. */
  grouped: Map<string, number>;
}

/** Types with fewer than `minCount` entities become `otherType`. */
export function groupRareTypes(sentences: readonly Sentence[], minCount: number, otherType = 'Other', scheme: LabelScheme = 'iob2'): RareTypeResult {
  const counts = countEntityTypes(sentences, scheme);
  const grouped = new Map([...counts].filter(([, count]) => count < minCount));
  return { sentences: mapEntityTypes(sentences, (type) => (grouped.has(type) ? otherType : type), scheme), grouped };
}
