// PubTator reader (BC5CDR, NCBI-disease, MedMentions): `PMID|t|title`, `PMID|a|abstract`, then tab-separated
// mention lines `PMID start end text type id [extra...]`; relation lines are kept apart; streamed by document.

import { numberedLines, readLinesStrict, type NumberedLine } from './files.js';
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
export async function* readPubtatorFile(path: string): AsyncGenerator<PubtatorDocument> {
  const parser = new PubtatorParser(path);
  for await (const line of readLinesStrict(path)) {
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
        this.current = { id, title: content, abstract: '', text: content, titleEnd: content.length, entities: [], relations: [], textMismatches: 0 };
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
    else if (columns.length >= 3 && !/^\d+$/.test(columns[1]!)) this.current.relations.push({ type: columns[1]!, arguments: columns.slice(2) });
    else throw new Error(`${where}: malformed line (expected 'PMID<TAB>start<TAB>end<TAB>text<TAB>type[<TAB>id]' or a relation)`);
    return null;
  }

  /** Mentions are checked once the abstract is known, since offsets reach into it. */
  finish(): PubtatorDocument | null {
    const doc = this.current;
    if (!doc) return null;
    for (const { line, lineNumber } of this.mentionLines) {
      const where = `${this.fileName}:${lineNumber}`;
      const [, startText, endText, surface, type, conceptId] = line.split('\t');
      if (!/^\d+$/.test(endText!)) throw new Error(`${where}: end offset '${endText}' is not a number`);
      const start = Number(startText);
      const end = Number(endText);
      if (end > doc.text.length) throw new Error(`${where}: offset ${end} past the end of document ${doc.id} (length ${doc.text.length})`);
      if (start >= end) throw new Error(`${where}: empty or reversed span ${start}-${end}`);
      if (!type) throw new Error(`${where}: missing entity type column`);
      if (doc.text.slice(start, end) !== surface) doc.textMismatches++;
      doc.entities.push({ type, start, end, text: surface, conceptId: conceptId?.trim() || undefined });
    }
    this.current = null;
    this.mentionLines = [];
    return doc;
  }
}

function truncate(line: string): string {
  return line.length > 60 ? `${line.slice(0, 57)}...` : line;
}

/** Write documents back in PubTator form (mentions only; relations kept when present). */
export function formatPubtator(documents: readonly AnnotatedDocument[]): string {
  return documents
    .map((doc) => {
      const titleEnd = doc.titleEnd ?? doc.text.length;
      const lines = [`${doc.id}|t|${doc.text.slice(0, titleEnd)}`, `${doc.id}|a|${doc.text.slice(titleEnd + 1)}`];
      for (const e of doc.entities) lines.push([doc.id, e.start, e.end, doc.text.slice(e.start, e.end), e.type, e.conceptId ?? ''].join('\t'));
      return lines.join('\n') + '\n';
    })
    .join('\n');
}
