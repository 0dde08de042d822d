// A tokenizer described by a Hugging Face tokenizer.json with a BPE or Unigram model: added tokens split out,
// normalizer, pre-tokenizer, model, then the post-processor's offset trimming and special tokens -- the
// pipeline of the `tokenizers` library, run on text whose characters remember their original spans, so ids
// and offsets come out as HF's fast tokenizers give them. RoBERTa/GPT-2 vocab.json + merges.txt and
// SentencePiece's spiece.model are read by building the tokenizer.json HF's converters build from them
// (bpe.ts, unigram.ts), so there is one pipeline.

import { NormalizedText, WHITESPACE, normalizerFromJson, type Normalizer, type Span } from './normalized.js';
import { toEncoding, type EncodeOptions, type Encoding, type SubwordToken, type SubwordTokenizer } from './subword-tokenizer.js';
import { BpeModel, BYTE_TO_CHAR } from './bpe.js';
import { UnigramModel } from './unigram.js';

/** What a model gives for one pre-tokenized piece: ids with [start, end) indices into the piece's characters. */
export interface ModelToken {
  id: number;
  token: string;
  start: number;
  end: number;
}

export interface TokenModel {
  readonly vocab: ReadonlyMap<string, number>;
  readonly unkId: number | null;
  tokenize(chars: readonly string[]): ModelToken[];
}

export interface AddedTokenJson {
  id: number;
  content: string;
  single_word?: boolean;
  lstrip?: boolean;
  rstrip?: boolean;
  normalized?: boolean;
  special?: boolean;
}

export interface TokenizerJson {
  added_tokens?: AddedTokenJson[];
  normalizer?: unknown;
  pre_tokenizer?: unknown;
  post_processor?: unknown;
  decoder?: unknown;
  model: { type?: string; [key: string]: unknown };
  padding?: { pad_id?: number; pad_token?: string } | null;
  [key: string]: unknown;
}

/** Special tokens named outside tokenizer.json (tokenizer_config.json, special_tokens_map.json). */
export interface SpecialTokenNames {
  unk?: string;
  pad?: string;
  cls?: string;
  sep?: string;
  mask?: string;
  bos?: string;
  eos?: string;
}

interface PreTokenizeContext {
  /** Prefix a space to each sequence (ByteLevel) regardless of the file: how pre-split words are encoded. */
  forcePrefixSpace: boolean;
}

type PreTokenizer = (pieces: NormalizedText[], context: PreTokenizeContext) => NormalizedText[];

interface PostProcessor {
  prefix: number[];
  suffix: number[];
  /** ByteLevel offset trimming (trim_offsets): null when the post-processor does not trim. */
  trim: { addPrefixSpace: boolean } | null;
}

// ---------- pre-tokenizers ----------

const WS = '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
/** GPT-2's split, with \s spelled as Oniguruma's (Unicode White_Space) rather than JavaScript's. */
const GPT2_SPLIT = new RegExp(`'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^${WS}\\p{L}\\p{N}]+|[${WS}]+(?![^${WS}])|[${WS}]+`, 'gu');

/** Split a piece into the regex's matches and the gaps between them (HF's Isolated behaviour). */
function splitIsolated(piece: NormalizedText, regex: RegExp): NormalizedText[] {
  const text = piece.text;
  const charAt = charIndexOfUnit(piece);
  const out: NormalizedText[] = [];
  let last = 0;
  regex.lastIndex = 0;
  for (const match of text.matchAll(regex)) {
    if (match[0].length === 0) continue;
    const start = charAt[match.index!]!;
    const end = charAt[match.index! + match[0].length]!;
    if (start > last) out.push(piece.slice(last, start));
    out.push(piece.slice(start, end));
    last = end;
  }
  if (last < piece.length) out.push(piece.slice(last));
  return out;
}

function charIndexOfUnit(piece: NormalizedText): number[] {
  const charAt: number[] = [];
  piece.chars.forEach((char, k) => {
    for (let u = 0; u < char.length; u++) charAt.push(k);
  });
  charAt.push(piece.length);
  return charAt;
}

/** Each character's UTF-8 bytes as GPT-2's printable byte characters, every byte keeping its character's span. */
export function toByteLevel(piece: NormalizedText): NormalizedText {
  const chars: string[] = [];
  const spans: Span[] = [];
  const encoder = new TextEncoder();
  piece.chars.forEach((char, k) => {
    for (const byte of encoder.encode(char)) {
      chars.push(BYTE_TO_CHAR[byte]!);
      spans.push(piece.spans[k]!);
    }
  });
  return new NormalizedText(chars, spans);
}

function preTokenizerFromJson(json: unknown, where: string): PreTokenizer {
  if (json === null || json === undefined) return (pieces) => pieces;
  const config = json as { type?: string; [key: string]: unknown };
  switch (config.type) {
    case 'Sequence': {
      const parts = ((config.pretokenizers as unknown[]) ?? []).map((p) => preTokenizerFromJson(p, where));
      return (pieces, context) => parts.reduce((acc, part) => part(acc, context), pieces);
    }
    case 'ByteLevel': {
      const addPrefixSpace = config.add_prefix_space === true;
      const useRegex = config.use_regex !== false;
      return (pieces, context) =>
        pieces.flatMap((piece) => {
          if ((addPrefixSpace || context.forcePrefixSpace) && !piece.text.startsWith(' ')) piece.prepend(' ');
          return (useRegex ? splitIsolated(piece, GPT2_SPLIT) : [piece]).map(toByteLevel);
        });
    }
    case 'Metaspace': {
      const replacement = String(config.replacement ?? '▁');
      // Older files say add_prefix_space, newer ones prepend_scheme ('always' | 'first' | 'never').
      const scheme = typeof config.prepend_scheme === 'string' ? config.prepend_scheme : config.add_prefix_space === false ? 'never' : 'always';
      const split = config.split !== false;
      return (pieces) =>
        pieces.flatMap((piece, index) => {
          piece.mapChars((char) => (char === ' ' ? replacement : char));
          if ((scheme === 'always' || (scheme === 'first' && index === 0)) && !piece.text.startsWith(replacement)) piece.prepend(replacement);
          if (!split) return [piece];
          // MergedWithNext: every replacement character starts a new piece.
          const out: NormalizedText[] = [];
          let start = 0;
          for (let k = 1; k < piece.length; k++) {
            if (piece.chars[k] === replacement) {
              out.push(piece.slice(start, k));
              start = k;
            }
          }
          if (piece.length > 0) out.push(piece.slice(start));
          return out;
        });
    }
    case 'WhitespaceSplit':
      return (pieces) =>
        pieces.flatMap((piece) => {
          const out: NormalizedText[] = [];
          let start = -1;
          for (let k = 0; k <= piece.length; k++) {
            const space = k === piece.length || WHITESPACE.test(piece.chars[k]!);
            if (space && start >= 0) {
              out.push(piece.slice(start, k));
              start = -1;
            } else if (!space && start < 0) start = k;
          }
          return out;
        });
    case 'Whitespace':
      return (pieces) => pieces.flatMap((piece) => splitIsolated(piece, /\w+|[^\w\s]+/gu).filter((p) => !/^\s+$/u.test(p.text)));
    default:
      throw new Error(`${where}: pre-tokenizer ${JSON.stringify(config.type)} is not supported (medner implements ByteLevel, Metaspace, WhitespaceSplit, Whitespace, Sequence)`);
  }
}

// ---------- post-processors ----------

function postProcessorFromJson(json: unknown, tokenId: (name: string) => number, where: string): PostProcessor {
  const none: PostProcessor = { prefix: [], suffix: [], trim: null };
  if (json === null || json === undefined) return none;
  const config = json as { type?: string; [key: string]: unknown };
  const pairId = (value: unknown) => (Array.isArray(value) ? Number(value[1]) : tokenId(String(value)));
  switch (config.type) {
    case 'RobertaProcessing':
      return {
        prefix: [pairId(config.cls)],
        suffix: [pairId(config.sep)],
        trim: config.trim_offsets === false ? null : { addPrefixSpace: config.add_prefix_space !== false },
      };
    case 'BertProcessing':
      return { prefix: [pairId(config.cls)], suffix: [pairId(config.sep)], trim: null };
    case 'ByteLevel':
      return { prefix: [], suffix: [], trim: config.trim_offsets === false ? null : { addPrefixSpace: config.add_prefix_space === true } };
    case 'TemplateProcessing': {
      const specials = (config.special_tokens ?? {}) as Record<string, { ids?: number[] }>;
      const single = (config.single ?? []) as { SpecialToken?: { id: string }; Sequence?: { id: string } }[];
      const at = single.findIndex((item) => item.Sequence);
      if (at < 0) throw new Error(`${where}: TemplateProcessing's single template has no $A`);
      const ids = (items: typeof single) => items.flatMap((item) => specials[item.SpecialToken!.id]?.ids ?? [tokenId(item.SpecialToken!.id)]);
      return { prefix: ids(single.slice(0, at)), suffix: ids(single.slice(at + 1)), trim: null };
    }
    case 'Sequence': {
      const parts = ((config.processors as unknown[]) ?? []).map((p) => postProcessorFromJson(p, tokenId, where));
      return {
        prefix: parts.flatMap((p) => p.prefix),
        suffix: parts.flatMap((p) => p.suffix),
        trim: parts.find((p) => p.trim)?.trim ?? null,
      };
    }
    default:
      throw new Error(`${where}: post-processor ${JSON.stringify(config.type)} is not supported (medner implements RobertaProcessing, BertProcessing, ByteLevel, TemplateProcessing, Sequence)`);
  }
}

const SPACE_CHAR = BYTE_TO_CHAR[0x20]!;

/**
 * HF's ByteLevel process_offsets: offsets leave out the leading/trailing spaces ('Ġ') a token carries. HF does
 * this arithmetic on UTF-8 byte offsets and maps a byte inside a character to that character, so it is done
 * here the same way: a prefix space aligned to a 4-byte character, trimmed by one byte, ends before it.
 */
function trimOffsets(tokens: SubwordToken[], text: string, base: number, addPrefixSpace: boolean): void {
  const isSpace = (char: string) => char === SPACE_CHAR || WHITESPACE.test(char);
  // UTF-16 index (relative to base) -> byte offset, and byte offset -> UTF-16 start of the character holding it.
  const byteAt: number[] = [];
  const unitOfByte: number[] = [];
  let bytes = 0;
  for (let u = 0; u < text.length; ) {
    const cp = text.codePointAt(u)!;
    const width = cp > 0xffff ? 2 : 1;
    const length = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    for (let k = 0; k < width; k++) byteAt[u + k] = bytes;
    for (let k = 0; k < length; k++) unitOfByte[bytes + k] = u;
    bytes += length;
    u += width;
  }
  byteAt[text.length] = bytes;
  const toByte = (offset: number) => byteAt[offset - base]!;
  const toUnit = (byte: number) => base + (byte >= bytes ? text.length : unitOfByte[byte]!);
  tokens.forEach((token, i) => {
    const chars = [...token.token];
    let leading = 0;
    while (leading < chars.length && isSpace(chars[leading]!)) leading++;
    let trailing = 0;
    while (trailing < chars.length && isSpace(chars[chars.length - 1 - trailing]!)) trailing++;
    if (leading === 0 && trailing === 0) return;
    let start = toByte(token.start);
    let end = toByte(token.end);
    if (leading > 0) {
      const isFirst = i === 0 || start === 0;
      if (!(isFirst && addPrefixSpace && leading === 1)) start = Math.min(start + leading, end);
    }
    if (trailing > 0 && end >= trailing) end = Math.max(end - trailing, start);
    token.start = toUnit(start);
    token.end = toUnit(end);
  });
}

// ---------- added tokens ----------

interface AddedToken {
  id: number;
  content: string;
  singleWord: boolean;
  lstrip: boolean;
  rstrip: boolean;
}

/** An added token's segment keeps the whitespace lstrip/rstrip took in its text, as HF's token value does. */
type Segment = { added: AddedToken; span: Span; matched: string } | { text: NormalizedText };

const WORD_CHAR = /^[\p{L}\p{N}_]$/u;

/** Leftmost-longest matches of the added tokens, with their lstrip/rstrip/single_word rules (HF's AddedVocabulary). */
class AddedTokenMatcher {
  private readonly byFirstChar = new Map<string, AddedToken[]>();

  constructor(tokens: AddedToken[]) {
    for (const token of tokens) {
      if (token.content === '') continue;
      const first = String.fromCodePoint(token.content.codePointAt(0)!);
      const list = this.byFirstChar.get(first) ?? [];
      list.push(token);
      this.byFirstChar.set(first, list);
    }
    for (const list of this.byFirstChar.values()) list.sort((a, b) => b.content.length - a.content.length);
  }

  get empty(): boolean {
    return this.byFirstChar.size === 0;
  }

  split(text: NormalizedText): Segment[] {
    if (this.empty) return [{ text }];
    const chars = text.chars;
    const segments: Segment[] = [];
    let from = 0;
    for (let k = 0; k < chars.length; k++) {
      const candidates = this.byFirstChar.get(chars[k]!);
      if (!candidates) continue;
      const found = candidates.find((token) => matchesAt(chars, k, token.content));
      if (!found) continue;
      let start = k;
      let stop = k + [...found.content].length;
      if (found.singleWord) {
        const before = start === 0 || !WORD_CHAR.test(chars[start - 1]!);
        const after = stop === chars.length || !WORD_CHAR.test(chars[stop]!);
        if (!before || !after) continue;
      }
      if (found.lstrip) while (start > from && WHITESPACE.test(chars[start - 1]!)) start--;
      if (found.rstrip) while (stop < chars.length && WHITESPACE.test(chars[stop]!)) stop++;
      if (start > from) segments.push({ text: text.slice(from, start) });
      segments.push({ added: found, span: text.spanOf(start, stop), matched: chars.slice(start, stop).join('') });
      from = stop;
      k = stop - 1;
    }
    if (from < chars.length) segments.push({ text: text.slice(from) });
    return segments;
  }
}

function matchesAt(chars: readonly string[], at: number, content: string): boolean {
  let k = at;
  for (const char of content) {
    if (chars[k] !== char) return false;
    k++;
  }
  return true;
}

// ---------- the tokenizer ----------

export class HfTokenizer implements SubwordTokenizer {
  readonly kind: 'bpe' | 'unigram';
  readonly model: TokenModel;
  readonly idToToken: string[];
  readonly unkId: number;
  readonly padId: number;
  readonly clsId: number;
  readonly sepId: number;
  readonly maskId: number | undefined;
  readonly specialPrefix: number[];
  readonly specialSuffix: number[];
  private readonly normalize: Normalizer | null;
  private readonly preTokenize: PreTokenizer;
  private readonly post: PostProcessor;
  private readonly rawAdded: AddedTokenMatcher;
  private readonly normalizedAdded: AddedTokenMatcher;
  private readonly addedIds: Map<string, number>;

  /**
   * @param json a parsed tokenizer.json (or the one a converter built)
   * @param names special tokens named by tokenizer_config.json / special_tokens_map.json
   * @param where the file named in errors
   */
  constructor(
    readonly json: TokenizerJson,
    readonly names: SpecialTokenNames = {},
    where = 'tokenizer.json',
  ) {
    const type = json.model?.type;
    if (type === 'BPE') this.model = BpeModel.fromJson(json.model, where);
    else if (type === 'Unigram') this.model = UnigramModel.fromJson(json.model, where);
    else throw new Error(`${where}: tokenizer model ${JSON.stringify(type ?? null)} is not supported here (BPE, Unigram; WordPiece has its own tokenizer)`);
    this.kind = type === 'BPE' ? 'bpe' : 'unigram';

    const added = (json.added_tokens ?? []).map((t) => ({ id: t.id, content: t.content, singleWord: t.single_word === true, lstrip: t.lstrip === true, rstrip: t.rstrip === true, normalized: t.normalized !== false }));
    this.addedIds = new Map(added.map((t) => [t.content, t.id]));
    this.rawAdded = new AddedTokenMatcher(added.filter((t) => !t.normalized));
    this.normalizedAdded = new AddedTokenMatcher(added.filter((t) => t.normalized));
    this.idToToken = [];
    for (const [token, id] of this.model.vocab) this.idToToken[id] = token;
    for (const token of added) this.idToToken[token.id] = token.content;
    for (let id = 0; id < this.idToToken.length; id++) this.idToToken[id] ??= '';

    this.normalize = normalizerFromJson(json.normalizer, where);
    this.preTokenize = preTokenizerFromJson(json.pre_tokenizer, where);
    const lookup = (name: string) => {
      const id = this.lookup(name);
      if (id === undefined) throw new Error(`${where}: the post-processor names ${name}, which is not in the vocabulary`);
      return id;
    };
    this.post = postProcessorFromJson(json.post_processor, lookup, where);
    this.specialPrefix = this.post.prefix;
    this.specialSuffix = this.post.suffix;

    const named = (name: string | undefined) => (name === undefined ? undefined : this.lookup(name));
    const firstPresent = (...candidates: string[]) => candidates.map((c) => this.lookup(c)).find((id) => id !== undefined);
    const eos = named(names.eos) ?? firstPresent('</s>', '<|endoftext|>', '[SEP]');
    const bos = named(names.bos) ?? firstPresent('<s>', '<|endoftext|>', '[CLS]');
    const unk = this.model.unkId ?? named(names.unk) ?? firstPresent('<unk>', '[UNK]', '<|endoftext|>');
    this.unkId = unk ?? 0;
    this.clsId = this.specialPrefix[0] ?? named(names.cls) ?? bos ?? this.unkId;
    this.sepId = this.specialSuffix.at(-1) ?? named(names.sep) ?? eos ?? this.unkId;
    this.padId = json.padding?.pad_id ?? named(names.pad) ?? firstPresent('<pad>', '[PAD]', '<|padding|>') ?? eos ?? 0;
    this.maskId = named(names.mask) ?? firstPresent('<mask>', '[MASK]');
  }

  private lookup(token: string): number | undefined {
    return this.addedIds.get(token) ?? this.model.vocab.get(token);
  }

  tokenToId(token: string): number {
    return this.lookup(token) ?? this.unkId;
  }

  get vocabSize(): number {
    return this.idToToken.length;
  }

  /** Subword tokens of one sequence starting at `base` in the caller's coordinates. */
  private sequence(text: string, base: number, wordIndex: number, forcePrefixSpace: boolean): SubwordToken[] {
    const out: SubwordToken[] = [];
    const pushAdded = (segment: { added: AddedToken; span: Span; matched: string }) =>
      out.push({ token: segment.matched, id: segment.added.id, start: segment.span[0], end: segment.span[1], wordIndex });
    for (const raw of this.rawAdded.split(NormalizedText.from(text, base))) {
      if ('added' in raw) {
        pushAdded(raw);
        continue;
      }
      this.normalize?.(raw.text);
      for (const segment of this.normalizedAdded.split(raw.text)) {
        if ('added' in segment) {
          pushAdded(segment);
          continue;
        }
        for (const piece of this.preTokenize([segment.text], { forcePrefixSpace })) {
          for (const token of this.model.tokenize(piece.chars)) {
            const [start, end] = piece.spanOf(token.start, token.end);
            out.push({ token: token.token, id: token.id, start, end, wordIndex });
          }
        }
      }
    }
    if (this.post.trim) trimOffsets(out, text, base, this.post.trim.addPrefixSpace || forcePrefixSpace);
    return out;
  }

  /** Subword tokens of raw text, without special tokens (wordIndex 0 throughout). */
  tokenize(text: string): SubwordToken[] {
    return this.sequence(text, 0, 0, false);
  }

  encode(text: string, { addSpecialTokens = true }: EncodeOptions = {}): Encoding {
    return toEncoding(this.tokenize(text), this.specialPrefix, this.specialSuffix, this.idToToken, addSpecialTokens);
  }

  encodeWords(words: readonly string[], { addSpecialTokens = true }: EncodeOptions = {}): Encoding {
    const out: SubwordToken[] = [];
    let base = 0;
    words.forEach((word, wordIndex) => {
      out.push(...this.sequence(word, base, wordIndex, this.kind === 'bpe'));
      base += word.length + 1;
    });
    return toEncoding(out, this.specialPrefix, this.specialSuffix, this.idToToken, addSpecialTokens);
  }

  files(): Map<string, string | Uint8Array> {
    const config: Record<string, string> = { tokenizer_class: 'PreTrainedTokenizerFast' };
    const name = (id: number | undefined) => (id === undefined ? undefined : this.idToToken[id]);
    for (const [key, id] of [['unk_token', this.unkId], ['pad_token', this.padId], ['cls_token', this.clsId], ['sep_token', this.sepId], ['mask_token', this.maskId]] as const) {
      const token = name(id);
      if (token) config[key] = token;
    }
    return new Map([
      ['tokenizer.json', JSON.stringify(this.json)],
      ['tokenizer_config.json', JSON.stringify(config, null, 2) + '\n'],
    ]);
  }
}
