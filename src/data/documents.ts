// Between offset-level documents and token-level sentences: the overlap policy (flat tags cannot hold nested
// or overlapping entities), projection of entities onto word tokens, and rebuilding text from tokens.

import { splitSentences, tokenizeWords, type SentenceSplitOptions, type TextSpan } from '../text/segment.js';
import { spansToTags, tagsToSpans, type LabelScheme, type TokenSpan } from './schemes.js';
import type { AnnotatedDocument, EntityMention, Sentence } from './types.js';

/**
 * What a reader and the document -> sentence step did with every entity record: read, set aside (with the
 * reason), or kept by a documented rule that changes it. Nothing is dropped without a count here, and with
 * `strict` every kind below is an error naming the file and line instead.
 */
export interface CorpusReport {
  /** Entity records read (annotation lines, or tagged chunks of token-level files). */
  entities: number;
  /** Set aside: overlapping a longer kept entity (keep-longest). */
  dropped: { entity: EntityMention; docId: string; keptInstead: EntityMention }[];
  /** Set aside: exact duplicates (same type and span) merged into one. */
  duplicates: number;
  /** Set aside: entities that cover no word (whitespace only). */
  noToken: { entity: EntityMention; docId: string }[];
  /** Kept: entities with more than one fragment (brat `a b;c d`), tagged over their whole extent. */
  discontinuous: number;
  /** Kept: entities that cross a sentence boundary; the sentences are merged. */
  crossing: number;
  /** Kept: annotations whose surface text differs from the text at their offsets; the offsets win. */
  textMismatches: number;
  /** Kept: token-level sentences whose tags break their scheme (I- with no B-), read as entity starts. */
  repairedSentences: number;
  /** Turn every defect above into an error. */
  strict: boolean;
}

export function emptyCorpusReport(options: { strict?: boolean } = {}): CorpusReport {
  return { entities: 0, dropped: [], duplicates: 0, noToken: [], discontinuous: 0, crossing: 0, textMismatches: 0, repairedSentences: 0, strict: options.strict ?? false };
}

/** Entities set aside (absent from the output), over all reasons. */
export function setAsideCount(report: CorpusReport): number {
  return report.dropped.length + report.duplicates + report.noToken.length;
}

/** The one summary line of a conversion or a training corpus. */
export function summarizeReport(report: CorpusReport): string {
  const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
  const aside = [
    report.dropped.length ? `${report.dropped.length} overlapping (kept the longest)` : '',
    report.duplicates ? `${report.duplicates} duplicate${report.duplicates === 1 ? '' : 's'} (merged)` : '',
    report.noToken.length ? `${report.noToken.length} covering no word` : '',
  ].filter(Boolean);
  const kept = [
    report.discontinuous ? `${report.discontinuous} discontinuous (tagged over their extent)` : '',
    report.crossing ? `${report.crossing} crossing a sentence boundary (sentences merged)` : '',
    report.textMismatches ? `${plural(report.textMismatches, 'text mismatch', 'text mismatches')} (offsets win)` : '',
    report.repairedSentences ? `${plural(report.repairedSentences, 'sentence', 'sentences')} with I- after O (read as entity starts)` : '',
  ].filter(Boolean);
  const setAside = setAsideCount(report);
  return `${plural(report.entities, 'entity', 'entities')} read, ${report.entities - setAside} kept, ${setAside} set aside${aside.length ? ` (${aside.join(', ')})` : ''}` + (kept.length ? `; kept by rule: ${kept.join(', ')}` : '');
}

/** `file:line` of an entity, as far as its reader recorded it. */
function whereIs(doc: AnnotatedDocument, entity: EntityMention): string {
  const file = doc.source ?? `document ${doc.id}`;
  return entity.line !== undefined ? `${file}:${entity.line}` : file;
}

/** Count a defect, or under `strict` stop with an error that names the annotation. */
function defect(report: CorpusReport, doc: AnnotatedDocument, entity: EntityMention, message: string): void {
  if (report.strict) throw new Error(`${whereIs(doc, entity)}: ${message} (an error under --strict)`);
}

const oneLine = (s: string) => s.replace(/[\t\n\r]/g, ' ');

/**
 * Count a document's entities, its discontinuous ones and its text mismatches (surface text against the
 * offsets; discontinuous fragments joined by a space, line breaks read as spaces, as brat writes them).
 */
export function auditDocument(doc: AnnotatedDocument, report: CorpusReport, options: { flat: boolean } = { flat: true }): void {
  report.entities += doc.entities.length;
  for (const entity of doc.entities) {
    if (entity.text !== undefined) {
      const slice = (entity.fragments ?? [[entity.start, entity.end]]).map(([s, e]) => doc.text.slice(s, e)).join(' ');
      if (oneLine(slice) !== oneLine(entity.text)) {
        defect(report, doc, entity, `surface text '${entity.text}' differs from the text at its offsets '${slice}'`);
        report.textMismatches++;
      }
    }
    if (options.flat && (entity.fragments?.length ?? 1) > 1) {
      defect(report, doc, entity, `discontinuous ${entity.type} entity (flat tags can only hold its extent ${entity.start}-${entity.end})`);
      report.discontinuous++;
    }
  }
}

/**
 * Policy for flat tagging: keep the longest entity of each overlapping group (ties: earlier start, then file
 * order) and report every entity dropped. A discontinuous entity counts as its extent [first start, last end).
 */
export function resolveOverlaps(doc: AnnotatedDocument, report: CorpusReport = emptyCorpusReport()): EntityMention[] {
  const seen = new Set<string>();
  const unique: EntityMention[] = [];
  for (const entity of doc.entities) {
    const key = `${entity.type}\t${entity.start}\t${entity.end}`;
    if (seen.has(key)) {
      defect(report, doc, entity, `duplicate of an earlier ${entity.type} entity at ${entity.start}-${entity.end}`);
      report.duplicates++;
    } else {
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
    if (blocker) {
      defect(report, doc, entity, `${entity.type} entity at ${entity.start}-${entity.end} overlaps ${blocker.type} at ${blocker.start}-${blocker.end}${blocker.line !== undefined ? ` (line ${blocker.line})` : ''}`);
      report.dropped.push({ entity, docId: doc.id, keptInstead: blocker });
    } else kept.push(entity);
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
export function documentToSentences(doc: AnnotatedDocument, options: ToSentencesOptions = {}, report: CorpusReport = emptyCorpusReport()): Sentence[] {
  auditDocument(doc, report);
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
  sentenceSpans = mergeStraddledSentences(doc, sentenceSpans, entities, report);
  const sentences: Sentence[] = [];
  let entityIndex = 0;
  const noWord = (entity: EntityMention) => {
    defect(report, doc, entity, `${entity.type} entity at ${entity.start}-${entity.end} covers no word`);
    report.noToken.push({ entity, docId: doc.id });
  };
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
      if (first < 0 || words[first]!.start >= entity.end) noWord(entity);
      else tokenSpans.push({ type: entity.type, start: first, end: last + 1 });
    }
    sentences.push({
      tokens: words.map((w) => w.text),
      tags: spansToTags(tokenSpans, words.length, options.scheme ?? 'BIO'),
      offsets: words.map((w): [number, number] => [w.start, w.end]),
      docId: doc.id,
    });
  }
  // Entities in the whitespace after the last sentence.
  while (entityIndex < entities.length) noWord(entities[entityIndex++]!);
  return sentences;
}

function mergeStraddledSentences(doc: AnnotatedDocument, spans: TextSpan[], entities: EntityMention[], report: CorpusReport): TextSpan[] {
  const merged: TextSpan[] = [];
  const counted = new Set<EntityMention>();
  for (const span of spans) {
    const previous = merged[merged.length - 1];
    const straddling = previous ? entities.filter((e) => e.start < previous.end && e.end > span.start) : [];
    for (const entity of straddling) {
      if (counted.has(entity)) continue;
      defect(report, doc, entity, `${entity.type} entity at ${entity.start}-${entity.end} crosses a sentence boundary`);
      counted.add(entity);
      report.crossing++;
    }
    if (previous && straddling.length > 0) {
      previous.end = span.end;
      previous.text = doc.text.slice(previous.start, previous.end);
    } else merged.push({ ...span });
  }
  return merged;
}

/**
 * Documents from sentences (for brat output). Sentences group by docId; with offsets the text is rebuilt at the
 * original positions (gaps become spaces, a new line between sentences when there is room), otherwise tokens
 * are joined by one space and sentences by a line break.
 */
export function sentencesToDocuments(sentences: readonly Sentence[], scheme: LabelScheme = 'BIO', defaultDocId = 'doc'): AnnotatedDocument[] {
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
