// JSON Lines with token and tag lists (the Hugging Face datasets shape): {"tokens": [...], "tags": [...]}, also
// accepting "ner_tags" (strings, or integers with a list of label names) and an "id"/"docId" field.

import { numberedLines, readLinesStrict, type NumberedLine } from './files.js';
import { isValidTag } from './schemes.js';
import type { Sentence } from './types.js';

export interface JsonlReadOptions {
  /** Names for integer ner_tags, index = label id. */
  labelNames?: readonly string[];
}

function parseJsonlLine({ line, lineNumber }: NumberedLine, fileName: string, options: JsonlReadOptions): Sentence | null {
  if (line.trim() === '') return null;
  const where = `${fileName}:${lineNumber}`;
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`${where}: malformed JSON (${(error as Error).message})`);
  }
  if (typeof record !== 'object' || record === null || !Array.isArray(record.tokens)) throw new Error(`${where}: expected an object with a "tokens" array`);
  const rawTags = record.tags ?? record.ner_tags;
  if (!Array.isArray(rawTags)) throw new Error(`${where}: missing "tags" (or "ner_tags") array`);
  if (rawTags.length !== record.tokens.length) throw new Error(`${where}: ${record.tokens.length} tokens but ${rawTags.length} tags`);
  const tags = rawTags.map((tag: unknown) => {
    const name = typeof tag === 'number' ? options.labelNames?.[tag] : tag;
    if (typeof name !== 'string' || !isValidTag(name)) throw new Error(`${where}: malformed tag ${JSON.stringify(tag)}`);
    return name;
  });
  const tokens = record.tokens.map((token: unknown) => {
    if (typeof token !== 'string') throw new Error(`${where}: token ${JSON.stringify(token)} is not a string`);
    return token;
  });
  const sentence: Sentence = { tokens, tags };
  const docId = record.docId ?? record.doc_id ?? record.id;
  if (typeof docId === 'string' || typeof docId === 'number') sentence.docId = String(docId);
  if (Array.isArray(record.offsets)) sentence.offsets = record.offsets as [number, number][];
  return sentence;
}

export function parseJsonl(text: string, options: JsonlReadOptions = {}, fileName = '<jsonl>'): Sentence[] {
  const sentences: Sentence[] = [];
  for (const line of numberedLines(text)) {
    const sentence = parseJsonlLine(line, fileName, options);
    if (sentence) sentences.push(sentence);
  }
  return sentences;
}

export async function* readJsonlFile(path: string, options: JsonlReadOptions = {}): AsyncGenerator<Sentence> {
  for await (const line of readLinesStrict(path)) {
    const sentence = parseJsonlLine(line, path, options);
    if (sentence) yield sentence;
  }
}

export function formatJsonl(sentences: Iterable<Sentence>): string {
  let out = '';
  for (const s of sentences) {
    const record: Record<string, unknown> = {};
    if (s.docId !== undefined) record.docId = s.docId;
    record.tokens = s.tokens;
    record.tags = s.tags;
    if (s.offsets) record.offsets = s.offsets;
    out += JSON.stringify(record) + '\n';
  }
  return out;
}
