// Label maps over a corpus: collapse entity types (e.g. SpecificDisease, DiseaseClass -> Disease), drop types,
// and group types rarer than a threshold under "Other". Works on spans so the result stays a valid sequence.

import { platform } from '../platform/index.js';
import { spansToTags, tagsToSpans, type LabelScheme } from './schemes.js';
import type { AnnotatedDocument, Sentence } from './types.js';

const { readFileSync } = platform.fsSync;

/** A type mapping; mapping a type to 'O' (or null) removes its entities. */
export type TypeMapping = Readonly<Record<string, string | null>> | ((type: string) => string | null);

export function mapEntityTypes(sentences: readonly Sentence[], mapping: TypeMapping, scheme: LabelScheme = 'BIO'): Sentence[] {
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

export function countEntityTypes(sentences: readonly Sentence[], scheme: LabelScheme = 'BIO'): Map<string, number> {
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
export function groupRareTypes(sentences: readonly Sentence[], minCount: number, otherType = 'Other', scheme: LabelScheme = 'BIO'): RareTypeResult {
  const counts = countEntityTypes(sentences, scheme);
  const grouped = new Map([...counts].filter(([, count]) => count < minCount));
  return { sentences: mapEntityTypes(sentences, (type) => (grouped.has(type) ? otherType : type), scheme), grouped };
}

/** A label-map file: a JSON object from entity type to new type, or to null (or "O") to drop the type. */
export function readLabelMap(path: string): Record<string, string | null> {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `invalid JSON (${(error as Error).message})`;
    throw new Error(`${path}: ${reason}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${path}: a label map is a JSON object {"Type": "NewType" | null}`);
  for (const [type, target] of Object.entries(value)) {
    if (target !== null && (typeof target !== 'string' || target === '' || /\s/.test(target))) throw new Error(`${path}: "${type}" maps to ${JSON.stringify(target)}; expected a type name without spaces, or null to drop it`);
  }
  return value as Record<string, string | null>;
}

/** How a corpus's entity types are rewritten: a label map, then types rarer than minTypeCount grouped under otherType. */
export interface TypeMapOptions {
  labelMap?: Readonly<Record<string, string | null>>;
  /** Types with fewer entities than this (after the label map) become otherType. */
  minTypeCount?: number;
  /** Default "Other". */
  otherType?: string;
}

/**
 * The one mapping a TypeMapOptions means for a corpus whose entity counts (before any mapping) are
 * `counts`: the label map, composed with grouping the rare mapped types. Types absent from the result
 * stay as they are. Training computes it on the training set and applies the same to dev and test.
 */
export function effectiveTypeMap(counts: ReadonlyMap<string, number>, options: TypeMapOptions): Record<string, string | null> {
  const base = options.labelMap ?? {};
  const mapped = (type: string) => (type in base ? base[type]! : type);
  const result: Record<string, string | null> = { ...base };
  if (options.minTypeCount && options.minTypeCount > 1) {
    const after = new Map<string, number>();
    for (const [type, n] of counts) {
      const t = mapped(type);
      if (t !== null && t !== 'O') after.set(t, (after.get(t) ?? 0) + n);
    }
    const other = options.otherType ?? 'Other';
    for (const [type] of counts) {
      const t = mapped(type);
      if (t !== null && t !== 'O' && (after.get(t) ?? 0) < options.minTypeCount) result[type] = other;
    }
  }
  return result;
}

/** Entity types of documents rewritten (brat, PubTator): null or "O" removes the entity. */
export function mapDocumentTypes<D extends AnnotatedDocument>(documents: readonly D[], mapping: Readonly<Record<string, string | null>>): D[] {
  return documents.map((doc) => ({
    ...doc,
    entities: doc.entities.flatMap((e) => {
      const type = e.type in mapping ? mapping[e.type]! : e.type;
      return type === null || type === 'O' ? [] : [{ ...e, type }];
    }),
  }));
}

/** Entity counts per type in documents. */
export function countDocumentTypes(documents: readonly AnnotatedDocument[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const doc of documents) for (const e of doc.entities) counts.set(e.type, (counts.get(e.type) ?? 0) + 1);
  return counts;
}
