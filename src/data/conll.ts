// CoNLL-style column files (tags in BIO, BIOES or IOB1): one token per line, blank lines between sentences, optional
// -DOCSTART- lines; token and tag columns are configurable. Streamed sentence by sentence for large files.

import { numberedLines, readLinesStrict, type NumberedLine } from './files.js';
import { convertScheme, isValidTag, type LabelScheme } from './schemes.js';
import type { Sentence } from './types.js';

export interface ConllReadOptions {
  /** Column of the token (default 0). */
  tokenColumn?: number;
  /** Column of the tag; negative counts from the end (default -1, the last column). */
  tagColumn?: number;
  /** Column separator: 'tab', 'whitespace' (runs of spaces/tabs), or 'auto' (tab if the line has one). */
  separator?: 'tab' | 'whitespace' | 'auto';
  /** Scheme of the file; tags are converted to `targetScheme` when both are given and differ. */
  scheme?: LabelScheme;
  targetScheme?: LabelScheme;
  /** Most tokens in one sentence (default MAX_SENTENCE_TOKENS); more is an error naming the line. */
  maxSentenceTokens?: number;
}

const DOCSTART = '-DOCSTART-';
/**
 * Most tokens in one sentence: a file with no blank lines (one token per line, gigabytes long) stops with an
 * error here instead of filling memory. Far above any real sentence; raise it with `maxSentenceTokens`.
 */
export const MAX_SENTENCE_TOKENS = 1_000_000;

class ConllParser {
  private tokens: string[] = [];
  private tags: string[] = [];
  private docIndex = 0;
  private docId: string | undefined;
  private firstLine = 0;
  private readonly maxTokens: number;

  constructor(private readonly fileName: string, private readonly options: ConllReadOptions) {
    this.maxTokens = options.maxSentenceTokens ?? MAX_SENTENCE_TOKENS;
  }

  push({ line, lineNumber }: NumberedLine): Sentence | null {
    if (line.trim() === '') return this.flush();
    const columns = this.split(line);
    if (columns[0] === DOCSTART) {
      const tag = columns.length > 1 ? columns[columns.length - 1]! : 'O';
      if (tag !== 'O' && isValidTag(tag)) throw new Error(`${this.fileName}:${lineNumber}: a ${DOCSTART} line tagged '${tag}' (a document marker carries no entity)`);
      const done = this.flush();
      this.docIndex++;
      this.docId = `doc${this.docIndex}`;
      return done;
    }
    const tokenColumn = this.options.tokenColumn ?? 0;
    const tagColumnOption = this.options.tagColumn ?? -1;
    const tagColumn = tagColumnOption < 0 ? columns.length + tagColumnOption : tagColumnOption;
    const where = `${this.fileName}:${lineNumber}`;
    const needed = Math.max(tokenColumn, tagColumnOption < 0 ? -tagColumnOption : tagColumnOption) + 1;
    if (columns.length < needed || tagColumn === tokenColumn || tagColumn < 0) {
      throw new Error(`${where}: missing tag column (found ${columns.length} column${columns.length === 1 ? '' : 's'} in '${line.length > 60 ? `${line.slice(0, 57)}...` : line}')`);
    }
    const tag = columns[tagColumn]!;
    if (!isValidTag(tag)) throw new Error(`${where}: malformed tag '${tag}' (expected O or B-/I-/E-/S-TYPE)`);
    if (this.tokens.length === 0) this.firstLine = lineNumber;
    if (this.tokens.length >= this.maxTokens) {
      throw new Error(`${where}: the sentence that starts on line ${this.firstLine} has more than ${this.maxTokens.toLocaleString('en-US')} tokens (a missing blank line between sentences?)`);
    }
    this.tokens.push(columns[tokenColumn]!);
    this.tags.push(tag);
    return null;
  }

  flush(): Sentence | null {
    if (this.tokens.length === 0) return null;
    const { scheme, targetScheme } = this.options;
    const tags = scheme && targetScheme && scheme !== targetScheme ? convertScheme(this.tags, scheme, targetScheme) : this.tags;
    const sentence: Sentence = { tokens: this.tokens, tags };
    if (this.docId !== undefined) sentence.docId = this.docId;
    this.tokens = [];
    this.tags = [];
    return sentence;
  }

  private split(line: string): string[] {
    const mode = this.options.separator ?? 'auto';
    if (mode === 'tab' || (mode === 'auto' && line.includes('\t'))) return line.split('\t');
    return line.trim().split(/[ \t]+/);
  }
}

export function parseConll(text: string, options: ConllReadOptions = {}, fileName = '<conll>'): Sentence[] {
  const parser = new ConllParser(fileName, options);
  const sentences: Sentence[] = [];
  for (const line of numberedLines(text)) {
    const sentence = parser.push(line);
    if (sentence) sentences.push(sentence);
  }
  const last = parser.flush();
  if (last) sentences.push(last);
  return sentences;
}

export async function* readConllFile(path: string, options: ConllReadOptions = {}): AsyncGenerator<Sentence> {
  const parser = new ConllParser(path, options);
  for await (const line of readLinesStrict(path)) {
    const sentence = parser.push(line);
    if (sentence) yield sentence;
  }
  const last = parser.flush();
  if (last) yield last;
}

export interface ConllWriteOptions {
  /** Write `-DOCSTART- -X- -X- O` before each new docId (default true when sentences carry docIds). */
  docStart?: boolean;
}

export function formatConll(sentences: Iterable<Sentence>, options: ConllWriteOptions = {}): string {
  const lines: string[] = [];
  let currentDoc: string | undefined;
  for (const sentence of sentences) {
    if (options.docStart !== false && sentence.docId !== undefined && sentence.docId !== currentDoc) {
      currentDoc = sentence.docId;
      lines.push(`${DOCSTART}\tO`, '');
    }
    sentence.tokens.forEach((token, i) => {
      if (/[\t\n\r]/.test(token) || token === '' || token === DOCSTART) throw new Error(`formatConll: token '${token}' is empty, contains a tab or line break, or is ${DOCSTART}: it would not read back`);
      lines.push(`${token}\t${sentence.tags[i]}`);
    });
    lines.push('');
  }
  return lines.length ? lines.join('\n') + '\n' : '';
}
