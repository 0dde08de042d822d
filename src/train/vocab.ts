// Word and character vocabularies built from training data, for the models that
// start from embeddings (BiLSTM-CRF) and for BERT variants trained from scratch
// without a vocab.txt. Index 0 is padding, 1 is unknown.

import type { Sentence } from '../data/types.js';
import { numberedLines } from '../data/files.js';

export const PAD = '<pad>';
export const UNK = '<unk>';

export class Vocabulary {
  private readonly index = new Map<string, number>();

  constructor(readonly tokens: string[]) {
    tokens.forEach((t, i) => this.index.set(t, i));
    if (this.index.size !== tokens.length) throw new Error('Vocabulary: duplicate entries');
  }

  get size(): number {
    return this.tokens.length;
  }

  id(token: string): number {
    return this.index.get(token) ?? this.index.get(UNK) ?? 1;
  }

  has(token: string): boolean {
    return this.index.has(token);
  }

  /** Words seen at least minCount times (most frequent first), after `normalize`. */
  static fromCounts(counts: Map<string, number>, minCount: number, specials: string[] = [PAD, UNK]): Vocabulary {
    const kept = [...counts].filter(([, n]) => n >= minCount).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([w]) => w);
    return new Vocabulary([...specials, ...kept.filter((w) => !specials.includes(w))]);
  }

  /** One token per line, as vocab.txt. */
  toText(): string {
    const broken = this.tokens.find((t) => t === '' || /[\r\n]/.test(t));
    if (broken !== undefined) throw new Error(`Vocabulary: token ${JSON.stringify(broken)} is empty or holds a line break, which one token per line cannot hold`);
    return this.tokens.join('\n') + '\n';
  }

  /** Read toText's format (LF or CRLF); an empty line or a token listed twice is an error naming its line. */
  static fromText(text: string, fileName = '<vocabulary>'): Vocabulary {
    const tokens: string[] = [];
    const lineOf = new Map<string, number>();
    for (const { line, lineNumber } of numberedLines(text)) {
      if (line === '') throw new Error(`${fileName}:${lineNumber}: empty line (one token per line)`);
      const first = lineOf.get(line);
      if (first !== undefined) throw new Error(`${fileName}:${lineNumber}: '${line}' is already on line ${first}`);
      lineOf.set(line, lineNumber);
      tokens.push(line);
    }
    return new Vocabulary(tokens);
  }
}

/** Word normalisation for embedding lookup: digits to 0 so numbers share statistics. */
export function normalizeWord(word: string, lowercase: boolean): string {
  const w = word.replace(/[0-9]/g, '0');
  return lowercase ? w.toLowerCase() : w;
}

/** Tokens with a line break (possible in JSONL) cannot be saved one per line: they are read as <unk>. */
function withoutLineBreaks(counts: Map<string, number>): Map<string, number> {
  for (const token of counts.keys()) if (/[\r\n]/.test(token) || token === '') counts.delete(token);
  return counts;
}

export function buildWordVocabulary(sentences: readonly Sentence[], minCount: number, lowercase: boolean): Vocabulary {
  const counts = new Map<string, number>();
  for (const s of sentences) for (const t of s.tokens) counts.set(normalizeWord(t, lowercase), (counts.get(normalizeWord(t, lowercase)) ?? 0) + 1);
  return Vocabulary.fromCounts(withoutLineBreaks(counts), minCount);
}

export function buildCharVocabulary(sentences: readonly Sentence[], minCount = 1): Vocabulary {
  const counts = new Map<string, number>();
  for (const s of sentences) for (const t of s.tokens) for (const ch of t) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  return Vocabulary.fromCounts(withoutLineBreaks(counts), minCount);
}

/** Tag list with O first, then the rest sorted, so label ids are stable across runs. */
export function buildLabelList(sentences: readonly Sentence[]): string[] {
  const tags = new Set<string>();
  for (const s of sentences) for (const t of s.tags) tags.add(t);
  tags.delete('O');
  return ['O', ...[...tags].sort((a, b) => {
    const [pa, ta] = [a.slice(0, 1), a.slice(2)];
    const [pb, tb] = [b.slice(0, 1), b.slice(2)];
    return ta === tb ? 'BIES'.indexOf(pa) - 'BIES'.indexOf(pb) : ta < tb ? -1 : 1;
  })];
}
