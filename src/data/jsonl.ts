// JSON Lines with token and tag lists, the shape Hugging Face `datasets` writes: {"tokens": [...],
// "ner_tags": [...]}, tags as strings or as integers whose names come from a label list (the dataset's
// ClassLabel feature). Field names are configurable; a "doc_id" (or "docId", "id") groups sentences into
// documents. Optional "offsets" are [start, end] code points of each token in its document's text.

import { platform } from '../platform/index.js';
import { numberedLines, readLinesStrict, type NumberedLine } from './files.js';
import { isValidTag } from './schemes.js';
import type { Sentence } from './types.js';

export interface JsonlReadOptions {
  /** Names for integer tags, index = label id. */
  labelNames?: readonly string[];
  /** Field of the token list (default "tokens"). */
  tokensField?: string;
  /** Field of the tag list (default "tags", else "ner_tags"). */
  tagsField?: string;
}

export interface JsonlWriteOptions {
  /** Write tags as integer ids into this list (HF's ClassLabel); a tag not in it is an error. */
  labelNames?: readonly string[];
  tokensField?: string;
  /** Default "ner_tags" with labelNames (integers, as HF datasets), else "tags". */
  tagsField?: string;
}

/** UTF-16 units beyond one per code point in a string: its number of astral characters. */
function astralCount(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) n++;
  }
  return n;
}

/**
 * Token offsets are code points in files and UTF-16 units in memory. The text between tokens is whitespace
 * (the tokenizer makes a token of every other character), so the difference at a token is the number of
 * astral characters in the document's earlier tokens; this tracks it across a document's sentences.
 */
class OffsetShift {
  private doc: string | undefined = undefined;
  private extra = 0;

  /** Offsets of one sentence, converted with `sign` +1 (file -> memory) or -1 (memory -> file). */
  convert(sentence: { tokens: readonly string[]; docId?: string }, offsets: readonly [number, number][], sign: 1 | -1): [number, number][] {
    if (sentence.docId === undefined || sentence.docId !== this.doc) this.extra = 0;
    this.doc = sentence.docId;
    return offsets.map(([start, end], i) => {
      const before = this.extra;
      this.extra += astralCount(sentence.tokens[i] ?? '');
      return [start + sign * before, end + sign * this.extra];
    });
  }
}

class JsonlParser {
  private readonly shift = new OffsetShift();

  constructor(private readonly fileName: string, private readonly options: JsonlReadOptions) {}

  push({ line, lineNumber }: NumberedLine): Sentence | null {
    if (line.trim() === '') return null;
    const where = `${this.fileName}:${lineNumber}`;
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(line) as Record<string, unknown>;
    } catch (error) {
      throw new Error(`${where}: malformed JSON (${(error as Error).message})`);
    }
    const tokensField = this.options.tokensField ?? 'tokens';
    if (typeof record !== 'object' || record === null || Array.isArray(record)) throw new Error(`${where}: expected a JSON object`);
    const rawTokens = record[tokensField];
    if (!Array.isArray(rawTokens)) throw new Error(`${where}: expected an object with a "${tokensField}" array`);
    const tagsField = this.options.tagsField ?? (record.tags !== undefined ? 'tags' : 'ner_tags');
    const rawTags = record[tagsField];
    if (!Array.isArray(rawTags)) throw new Error(`${where}: missing "${this.options.tagsField ?? 'tags" (or "ner_tags'}" array`);
    if (rawTags.length !== rawTokens.length) throw new Error(`${where}: ${rawTokens.length} tokens but ${rawTags.length} tags`);
    const names = this.options.labelNames;
    const tags = rawTags.map((tag: unknown) => {
      if (typeof tag === 'number') {
        if (!names) throw new Error(`${where}: integer tag ${tag} in "${tagsField}" needs label names (--labels <file>: one per line, or the dataset's features JSON)`);
        const name = names[tag];
        if (name === undefined) throw new Error(`${where}: tag id ${tag} is outside the ${names.length} label names`);
        if (!isValidTag(name)) throw new Error(`${where}: label name '${name}' of tag id ${tag} is not O or B-/I-/E-/S-TYPE`);
        return name;
      }
      if (typeof tag !== 'string' || !isValidTag(tag)) throw new Error(`${where}: malformed tag ${JSON.stringify(tag)}`);
      return tag;
    });
    const tokens = rawTokens.map((token: unknown) => {
      if (typeof token !== 'string') throw new Error(`${where}: token ${JSON.stringify(token)} is not a string`);
      return token;
    });
    const sentence: Sentence = { tokens, tags };
    const docId = record.doc_id ?? record.docId ?? record.id;
    if (typeof docId === 'string' || typeof docId === 'number') sentence.docId = String(docId);
    if (record.offsets !== undefined) {
      const offsets = record.offsets;
      const pair = (o: unknown) => Array.isArray(o) && o.length === 2 && o.every((n) => Number.isInteger(n) && n >= 0);
      if (!Array.isArray(offsets) || offsets.length !== tokens.length || !offsets.every(pair)) throw new Error(`${where}: "offsets" must hold one [start, end] pair of integers per token`);
      sentence.offsets = this.shift.convert(sentence, offsets as [number, number][], 1);
    }
    return sentence;
  }
}

export function parseJsonl(text: string, options: JsonlReadOptions = {}, fileName = '<jsonl>'): Sentence[] {
  const parser = new JsonlParser(fileName, options);
  const sentences: Sentence[] = [];
  for (const line of numberedLines(text)) {
    const sentence = parser.push(line);
    if (sentence) sentences.push(sentence);
  }
  return sentences;
}

export async function* readJsonlFile(path: string, options: JsonlReadOptions = {}): AsyncGenerator<Sentence> {
  const parser = new JsonlParser(path, options);
  for await (const line of readLinesStrict(path)) {
    const sentence = parser.push(line);
    if (sentence) yield sentence;
  }
}

/** One JSON object per sentence: doc_id (when known), tokens, tags (strings, or ids with labelNames), offsets in code points. */
export function formatJsonl(sentences: Iterable<Sentence>, options: JsonlWriteOptions = {}): string {
  const shift = new OffsetShift();
  const names = options.labelNames;
  const ids = names ? new Map(names.map((n, i) => [n, i])) : null;
  const tokensField = options.tokensField ?? 'tokens';
  const tagsField = options.tagsField ?? (names ? 'ner_tags' : 'tags');
  if (tokensField === tagsField) throw new Error(`formatJsonl: the tokens and tags fields are both "${tokensField}"`);
  let out = '';
  for (const s of sentences) {
    const record: Record<string, unknown> = {};
    if (s.docId !== undefined) record.doc_id = s.docId;
    record[tokensField] = s.tokens;
    record[tagsField] = ids
      ? s.tags.map((tag) => {
          const id = ids.get(tag);
          if (id === undefined) throw new Error(`tag '${tag}' is not in the label list (${names!.length} names); add it to the --labels file`);
          return id;
        })
      : s.tags;
    if (s.offsets) record.offsets = shift.convert(s, s.offsets, -1);
    out += JSON.stringify(record) + '\n';
  }
  return out;
}

/**
 * Label names from a file: one per line (a labels.txt), a JSON array, or JSON as Hugging Face writes it
 * -- a dataset's features ({"ner_tags": {"feature": {"names": [...]}}}, also inside dataset_info.json's
 * "features") or a model's config.json with "id2label". `tagsField` picks the feature (default ner_tags,
 * else the only ClassLabel sequence there is).
 */
export function readLabelNames(path: string, tagsField?: string): string[] {
  let text: string;
  try {
    text = platform.fsSync.readFileSync(path, 'utf8');
  } catch {
    throw new Error(`${path}: cannot read the label file`);
  }
  const trimmed = text.trim();
  if (!trimmed.startsWith('{') && !trimmed.startsWith('[')) {
    const names = trimmed.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
    if (names.length === 0) throw new Error(`${path}: no label names`);
    return checkNames(names, path);
  }
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch (error) {
    throw new Error(`${path}: invalid JSON (${(error as Error).message})`);
  }
  if (Array.isArray(value)) return checkNames(value, path);
  const object = value as Record<string, unknown>;
  if (object.id2label && typeof object.id2label === 'object') {
    const entries = Object.entries(object.id2label as Record<string, unknown>);
    const names: unknown[] = [];
    for (const [id, name] of entries) names[Number(id)] = name;
    return checkNames(names, path);
  }
  const features = (object.features && typeof object.features === 'object' ? object.features : object) as Record<string, unknown>;
  const namesOf = (feature: unknown): unknown[] | undefined => {
    const f = feature as { names?: unknown; feature?: { names?: unknown } } | null;
    const names = f?.feature?.names ?? f?.names;
    return Array.isArray(names) ? names : undefined;
  };
  if (tagsField) {
    const names = namesOf(features[tagsField]);
    if (!names) throw new Error(`${path}: no ClassLabel names for feature "${tagsField}"`);
    return checkNames(names, path);
  }
  const candidates = Object.entries(features).filter(([, f]) => namesOf(f));
  const chosen = candidates.find(([k]) => k === 'ner_tags') ?? (candidates.length === 1 ? candidates[0] : undefined);
  if (!chosen) throw new Error(`${path}: ${candidates.length ? `several ClassLabel features (${candidates.map(([k]) => k).join(', ')}); name one with --tags-field` : 'no label names found (expected lines, a JSON array, features with ClassLabel names, or id2label)'}`);
  return checkNames(namesOf(chosen[1])!, path);
}

function checkNames(names: unknown[], path: string): string[] {
  names.forEach((name, i) => {
    if (typeof name !== 'string' || !isValidTag(name)) throw new Error(`${path}: label ${i} is ${JSON.stringify(name)}, not O or B-/I-/E-/S-TYPE`);
  });
  if (new Set(names).size !== names.length) throw new Error(`${path}: a label name appears twice`);
  return names as string[];
}
