// PubTator reader (BC5CDR, NCBI-disease, MedMentions): `PMID|t|title`, `PMID|a|abstract`, then tab-separated
// mention lines `PMID start end text type id [extra...]`; relation lines are kept apart; streamed by document.
// Offsets in the file count Unicode code points (PubTator's tools are Python and Java over code points);
// they are UTF-16 offsets in memory.

import { numberedLines, readLinesStrict, type NumberedLine } from './files.js';
import { OffsetMap } from './offsets.js';
import type { AnnotatedDocument } from './types.js';

export interface PubtatorRelation {
  type: string;
  arguments: string[];
}

export interface PubtatorDocument extends AnnotatedDocument {
  title: string;
  abstract: string;
  relations: PubtatorRelation[];
  /** Mentions whose text column differs from the offset slice (the offsets are trusted). */
  textMismatches: number;
}

const HEADER = /^([^|\t]+)\|([ta])\|(.*)$/;
/** A relation line: `PMID<TAB>Type<TAB>arg<TAB>arg[<TAB>extra]`, its type a word (CID, Association, ...). */
const RELATION_TYPE = /^[A-Za-z][\w-]*$/;

/** Parse a whole PubTator text held in memory. */
export function parsePubtator(text: string, fileName = '<pubtator>'): PubtatorDocument[] {
  const documents: PubtatorDocument[] = [];
  const parser = new PubtatorParser(fileName);
  for (const line of numberedLines(text)) {
    const done = parser.push(line);
    if (done) documents.push(done);
  }
  const last = parser.finish();
  if (last) documents.push(last);
  return documents;
}

/** Stream documents from a PubTator file. */
export function readPubtatorFile(path: string): AsyncGenerator<PubtatorDocument> {
  return readPubtatorLines(readLinesStrict(path), path);
}

/** Stream documents from numbered lines (a file, standard input); `fileName` names the source in errors. */
export async function* readPubtatorLines(lines: AsyncIterable<NumberedLine>, fileName: string): AsyncGenerator<PubtatorDocument> {
  const parser = new PubtatorParser(fileName);
  for await (const line of lines) {
    const done = parser.push(line);
    if (done) yield done;
  }
  const last = parser.finish();
  if (last) yield last;
}

class PubtatorParser {
  private current: PubtatorDocument | null = null;
  private mentionLines: NumberedLine[] = [];

  constructor(private readonly fileName: string) {}

  /** Feed one line; returns a document when the line completes one. */
  push({ line, lineNumber }: NumberedLine): PubtatorDocument | null {
    if (line.trim() === '') return this.finish();
    const where = `${this.fileName}:${lineNumber}`;
    const header = HEADER.exec(line);
    if (header) {
      const [, id, kind, content] = header as unknown as [string, string, 't' | 'a', string];
      let completed: PubtatorDocument | null = null;
      if (kind === 't' || (this.current && this.current.id !== id)) completed = this.finish();
      if (kind === 't') {
        this.current = { id, title: content, abstract: '', text: content, titleEnd: content.length, entities: [], relations: [], textMismatches: 0, source: this.fileName };
      } else {
        if (!this.current) throw new Error(`${where}: abstract line for ${id} without a title line`);
        this.current.abstract = content;
        // Offsets index title + one space + abstract.
        this.current.text = `${this.current.title} ${content}`;
      }
      return completed;
    }
    if (!this.current) throw new Error(`${where}: expected a 'PMID|t|title' line, got '${truncate(line)}'`);
    const columns = line.split('\t');
    if (columns[0] !== this.current.id) throw new Error(`${where}: line belongs to document '${columns[0]}' inside document '${this.current.id}'`);
    if (columns.length >= 5 && /^\d+$/.test(columns[1]!)) this.mentionLines.push({ line, lineNumber });
    // Anything else (a start that is not a number, a relation with too many columns) is an error, never a
    // mention quietly taken for a relation.
    else if (columns.length >= 3 && columns.length <= 5 && RELATION_TYPE.test(columns[1]!)) this.current.relations.push({ type: columns[1]!, arguments: columns.slice(2) });
    else if (columns.length >= 5) throw new Error(`${where}: start offset '${truncate(columns[1]!)}' is not a number`);
    else throw new Error(`${where}: malformed line (expected 'PMID<TAB>start<TAB>end<TAB>text<TAB>type[<TAB>id]' or a relation)`);
    return null;
  }

  /** Mentions are checked once the abstract is known, since offsets reach into it. */
  finish(): PubtatorDocument | null {
    const doc = this.current;
    if (!doc) return null;
    const offsets = new OffsetMap(doc.text);
    for (const { line, lineNumber } of this.mentionLines) {
      const where = `${this.fileName}:${lineNumber}`;
      const [, startText, endText, surface, type, conceptId] = line.split('\t');
      if (!/^\d+$/.test(endText!)) throw new Error(`${where}: end offset '${endText}' is not a number`);
      if (Number(endText) > offsets.codePointLength) throw new Error(`${where}: offset ${endText} past the end of document ${doc.id} (length ${offsets.codePointLength})`);
      if (Number(startText) >= Number(endText)) throw new Error(`${where}: empty or reversed span ${startText}-${endText}`);
      const start = offsets.toUtf16(Number(startText));
      const end = offsets.toUtf16(Number(endText));
      if (!type) throw new Error(`${where}: missing entity type column`);
      if (doc.text.slice(start, end) !== surface) doc.textMismatches++;
      doc.entities.push({ type, start, end, text: surface, conceptId: conceptId?.trim() || undefined, line: lineNumber });
    }
    this.current = null;
    this.mentionLines = [];
    return doc;
  }
}

function truncate(line: string): string {
  return line.length > 60 ? `${line.slice(0, 57)}...` : line;
}

/**
 * PubTator text of documents: title and abstract lines, then one mention line per entity with code-point
 * offsets and the concept id (empty when unknown). A document without `titleEnd` is all title, unless it
 * has line breaks: then its first line is the title and the rest the abstract (the breaks become spaces,
 * which keeps every offset). Relations of PubtatorDocuments are written back after the mentions.
 */
export function formatPubtator(documents: readonly AnnotatedDocument[]): string {
  return documents
    .map((doc) => {
      const newline = doc.text.indexOf('\n');
      const titleEnd = doc.titleEnd ?? (newline >= 0 ? newline : doc.text.length);
      const oneLine = (s: string) => s.replace(/[\r\n\t]/g, ' ');
      const offsets = new OffsetMap(doc.text);
      const lines = [`${doc.id}|t|${oneLine(doc.text.slice(0, titleEnd))}`, `${doc.id}|a|${oneLine(doc.text.slice(titleEnd + 1))}`];
      const entities = [...doc.entities].sort((a, b) => a.start - b.start || a.end - b.end);
      for (const e of entities) lines.push([doc.id, offsets.toCodePoint(e.start), offsets.toCodePoint(e.end), oneLine(doc.text.slice(e.start, e.end)), e.type, e.conceptId ?? ''].join('\t'));
      for (const r of (doc as Partial<PubtatorDocument>).relations ?? []) lines.push([doc.id, r.type, ...r.arguments].join('\t'));
      return lines.join('\n') + '\n';
    })
    .join('\n');
}
