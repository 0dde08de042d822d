// Between offset-level documents and token-level sentences: the overlap policy (flat tags cannot hold nested
// or overlapping entities), projection of entities onto word tokens, and rebuilding text from tokens.

import { splitSentences, tokenizeWords, type SentenceSplitOptions, type TextSpan } from '../text/segment.js';
import { spansToTags, tagsToSpans, type LabelScheme, type TokenSpan } from './schemes.js';
import type { AnnotatedDocument, EntityMention, Sentence } from './types.js';

export interface OverlapReport {
  /** Entities dropped because they overlap a longer kept one; never dropped silently. */
  dropped: { entity: EntityMention; docId: string; keptInstead: EntityMention }[];
  /** Entities with more than one fragment (brat `a b;c d`); tagged over their whole extent. */
  discontinuous: number;
  /** Exact duplicates (same type and span) merged into one. */
  duplicates: number;
}

export function emptyOverlapReport(): OverlapReport {
  return { dropped: [], discontinuous: 0, duplicates: 0 };
}

/**
 * Policy for flat tagging: keep the longest entity of each overlapping group (ties: earlier start, then file
 * order) and report every entity dropped. A discontinuous entity counts as its extent [first start, last end).
 */
export function resolveOverlaps(doc: AnnotatedDocument, report: OverlapReport = emptyOverlapReport()): EntityMention[] {
  report.discontinuous += doc.entities.filter((e) => (e.fragments?.length ?? 1) > 1).length;
  const seen = new Set<string>();
  const unique: EntityMention[] = [];
  for (const entity of doc.entities) {
    const key = `${entity.type}\t${entity.start}\t${entity.end}`;
    if (seen.has(key)) report.duplicates++;
    else {
      seen.add(key);
      unique.push(entity);
    }
  }
  const byPreference = unique
    .map((entity, order) => ({ entity, order }))
    .sort((a, b) => b.entity.end - b.entity.start - (a.entity.end - a.entity.start) || a.entity.start - b.entity.start || a.order - b.order);
  const kept: EntityMention[] = [];
  for (const { entity } of byPreference) {
    const blocker = kept.find((k) => k.start < entity.end && entity.start < k.end);
    if (blocker) report.dropped.push({ entity, docId: doc.id, keptInstead: blocker });
    else kept.push(entity);
  }
  return kept.sort((a, b) => a.start - b.start);
}

export interface ToSentencesOptions {
  scheme?: LabelScheme;
  split?: SentenceSplitOptions;
  /** Split sentences at all (false: one sentence per document or title/abstract part). */
  splitSentences?: boolean;
}

/**
 * Tokenize a document, split it into sentences and tag entities. Tokens break at entity edges so every entity
 * maps back to its exact substring; sentences that an entity would straddle are merged.
 */
export function documentToSentences(doc: AnnotatedDocument, options: ToSentencesOptions = {}, report: OverlapReport = emptyOverlapReport()): Sentence[] {
  const entities = resolveOverlaps(doc, report);
  const edges = new Set<number>();
  for (const e of entities) {
    edges.add(e.start);
    edges.add(e.end);
  }
  const parts: [number, number][] = doc.titleEnd !== undefined ? [[0, doc.titleEnd], [doc.titleEnd, doc.text.length]] : [[0, doc.text.length]];
  let sentenceSpans: TextSpan[] = [];
  for (const [start, end] of parts) {
    sentenceSpans.push(
      ...(options.splitSentences === false ? [{ text: doc.text.slice(start, end), start, end }] : splitSentences(doc.text, options.split, start, end)),
    );
  }
  sentenceSpans = mergeStraddledSentences(doc.text, sentenceSpans, entities);
  const sentences: Sentence[] = [];
  let entityIndex = 0;
  for (const span of sentenceSpans) {
    const words = tokenizeWords(doc.text, span.start, span.end, edges);
    if (words.length === 0) continue;
    const tokenSpans: TokenSpan[] = [];
    while (entityIndex < entities.length && entities[entityIndex]!.start < span.end) {
      const entity = entities[entityIndex++]!;
      const first = words.findIndex((w) => w.end > entity.start);
      let last = first;
      while (last + 1 < words.length && words[last + 1]!.start < entity.end) last++;
      // An entity covering only whitespace has no token to carry it; it is reported rather than lost.
      if (first < 0 || words[first]!.start >= entity.end) report.dropped.push({ entity, docId: doc.id, keptInstead: entity });
      else tokenSpans.push({ type: entity.type, start: first, end: last + 1 });
    }
    sentences.push({
      tokens: words.map((w) => w.text),
      tags: spansToTags(tokenSpans, words.length, options.scheme ?? 'iob2'),
      offsets: words.map((w): [number, number] => [w.start, w.end]),
      docId: doc.id,
    });
  }
  return sentences;
}

function mergeStraddledSentences(text: string, spans: TextSpan[], entities: EntityMention[]): TextSpan[] {
  const merged: TextSpan[] = [];
  for (const span of spans) {
    const previous = merged[merged.length - 1];
    if (previous && entities.some((e) => e.start < previous.end && e.end > span.start)) {
      previous.end = span.end;
      previous.text = text.slice(previous.start, previous.end);
    } else merged.push({ ...span });
  }
  return merged;
}

/**
 * Documents from sentences (for brat output). Sentences group by docId; with offsets the text is rebuilt at the
 * original positions (gaps become spaces, a new line between sentences when there is room), otherwise tokens
 * are joined by one space and sentences by a line break.
 */
export function sentencesToDocuments(sentences: readonly Sentence[], scheme: LabelScheme = 'iob2', defaultDocId = 'doc'): AnnotatedDocument[] {
  const groups = new Map<string, Sentence[]>();
  for (const sentence of sentences) {
    const id = sentence.docId ?? defaultDocId;
    if (!groups.has(id)) groups.set(id, []);
    groups.get(id)!.push(sentence);
  }
  return [...groups].map(([id, group]) => {
    let text = '';
    const entities: EntityMention[] = [];
    for (const sentence of group) {
      const useOffsets = sentence.offsets !== undefined && sentence.offsets.length > 0 && sentence.offsets[0]![0] >= text.length + (text ? 1 : 0);
      if (text && !useOffsets) text += '\n';
      const positions: [number, number][] = [];
      sentence.tokens.forEach((token, i) => {
        let start = text.length + (i > 0 ? 1 : 0);
        if (useOffsets) start = Math.max(sentence.offsets![i]![0], text.length);
        const gap = start - text.length;
        text += gap > 0 ? (i === 0 && text ? '\n' + ' '.repeat(gap - 1) : ' '.repeat(gap)) : '';
        positions.push([text.length, text.length + token.length]);
        text += token;
      });
      for (const span of tagsToSpans(sentence.tags, scheme)) {
        const [start] = positions[span.start]!;
        const [, end] = positions[span.end - 1]!;
        entities.push({ type: span.type, start, end, text: text.slice(start, end) });
      }
    }
    entities.forEach((entity, i) => (entity.id = `T${i + 1}`));
    return { id, text, entities };
  });
}
