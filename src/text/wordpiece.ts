// WordPiece tokenizer compatible with Hugging Face's BertTokenizer: loads vocab.txt or tokenizer.json, gives the
// same ids, and keeps for every subword its [start, end) character span in the original text and its word index.

import { platform } from '../platform/index.js';
import { BasicTokenizer, type BasicWord } from './basic-tokenizer.js';
import { toEncoding, type EncodeOptions, type Encoding, type SubwordToken, type SubwordTokenizer } from './subword-tokenizer.js';

export type { EncodeOptions, Encoding, SubwordToken } from './subword-tokenizer.js';

export interface WordPieceOptions {
  lowercase?: boolean;
  stripAccents?: boolean;
  splitChineseChars?: boolean;
  unkToken?: string;
  clsToken?: string;
  sepToken?: string;
  padToken?: string;
  maskToken?: string;
  continuingSubwordPrefix?: string;
  maxInputCharsPerWord?: number;
}

export class WordPieceTokenizer implements SubwordTokenizer {
  readonly kind = 'wordpiece';
  readonly vocab: Map<string, number>;
  readonly idToToken: string[];
  readonly basic: BasicTokenizer;
  readonly continuingSubwordPrefix: string;
  readonly maxInputCharsPerWord: number;
  readonly unkId: number;
  readonly clsId: number;
  readonly sepId: number;
  readonly padId: number;
  readonly maskId: number | undefined;
  private readonly longestTokenChars: number;

  constructor(vocab: Map<string, number>, options: WordPieceOptions = {}) {
    this.vocab = vocab;
    this.idToToken = [];
    let longest = 0;
    for (const [token, id] of vocab) {
      this.idToToken[id] = token;
      longest = Math.max(longest, [...token].length);
    }
    this.longestTokenChars = longest;
    this.basic = new BasicTokenizer(options);
    this.continuingSubwordPrefix = options.continuingSubwordPrefix ?? '##';
    this.maxInputCharsPerWord = options.maxInputCharsPerWord ?? 100;
    // Special tokens are looked up by name: BiomedBERT's [CLS] is 2, Google BERT's is 101.
    const lookup = (name: string, required: boolean) => {
      const id = vocab.get(name);
      if (id === undefined && required) throw new Error(`vocabulary has no special token ${name}`);
      return id;
    };
    this.unkId = lookup(options.unkToken ?? '[UNK]', true)!;
    this.clsId = lookup(options.clsToken ?? '[CLS]', true)!;
    this.sepId = lookup(options.sepToken ?? '[SEP]', true)!;
    this.padId = lookup(options.padToken ?? '[PAD]', true)!;
    this.maskId = lookup(options.maskToken ?? '[MASK]', false);
  }

  /** vocab.txt: one token per line, id = line number (a later duplicate wins, as in transformers' load_vocab). */
  static fromVocabText(text: string, options: WordPieceOptions = {}): WordPieceTokenizer {
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    const vocab = new Map<string, number>();
    lines.forEach((line, id) => vocab.set(line.endsWith('\r') ? line.slice(0, -1) : line, id));
    return new WordPieceTokenizer(vocab, options);
  }

  /** tokenizer.json of the `tokenizers` library with a WordPiece model and a BertNormalizer. */
  static fromTokenizerJson(json: unknown, overrides: WordPieceOptions = {}): WordPieceTokenizer {
    const config = json as {
      model?: { type?: string; vocab?: Record<string, number>; unk_token?: string; continuing_subword_prefix?: string; max_input_chars_per_word?: number };
      normalizer?: { type?: string; lowercase?: boolean; strip_accents?: boolean | null; handle_chinese_chars?: boolean } | null;
    };
    if (config.model?.type !== 'WordPiece' || !config.model.vocab) throw new Error('tokenizer.json: model is not WordPiece');
    const normalizer = config.normalizer;
    if (normalizer && normalizer.type !== 'BertNormalizer') throw new Error(`tokenizer.json: unsupported normalizer ${normalizer.type}`);
    const lowercase = normalizer?.lowercase ?? false;
    return new WordPieceTokenizer(new Map(Object.entries(config.model.vocab)), {
      lowercase,
      stripAccents: normalizer?.strip_accents ?? lowercase,
      splitChineseChars: normalizer?.handle_chinese_chars ?? true,
      unkToken: config.model.unk_token,
      continuingSubwordPrefix: config.model.continuing_subword_prefix,
      maxInputCharsPerWord: config.model.max_input_chars_per_word,
      ...overrides,
    });
  }

  /** The options a tokenizer_config.json sets: do_lower_case, strip_accents, tokenize_chinese_chars. */
  static optionsFromConfig(config: Record<string, unknown> | null): WordPieceOptions {
    const options: WordPieceOptions = {};
    if (typeof config?.do_lower_case === 'boolean') options.lowercase = config.do_lower_case;
    if (typeof config?.strip_accents === 'boolean') options.stripAccents = config.strip_accents;
    if (typeof config?.tokenize_chinese_chars === 'boolean') options.splitChineseChars = config.tokenize_chinese_chars;
    return options;
  }

  /**
   * Load from a vocab.txt, a tokenizer.json, or a model directory (vocab.txt preferred, tokenizer.json otherwise);
   * a directory's tokenizer_config.json supplies do_lower_case / strip_accents / tokenize_chinese_chars.
   */
  static async load(path: string, overrides: WordPieceOptions = {}): Promise<WordPieceTokenizer> {
    if (path.endsWith('.json')) return WordPieceTokenizer.fromTokenizerJson(JSON.parse(await platform.fs.readFile(path, 'utf8')), overrides);
    if (!(await platform.fs.stat(path)).isDirectory()) return WordPieceTokenizer.fromVocabText(await platform.fs.readFile(path, 'utf8'), overrides);
    const config = await readJsonIfPresent(platform.path.join(path, 'tokenizer_config.json'));
    const fromConfig = WordPieceTokenizer.optionsFromConfig(config);
    const vocabText = await platform.fs.readFile(platform.path.join(path, 'vocab.txt'), 'utf8').catch(() => null);
    if (vocabText !== null) return WordPieceTokenizer.fromVocabText(vocabText, { lowercase: true, ...fromConfig, ...overrides });
    const tokenizerJson = await readJsonIfPresent(platform.path.join(path, 'tokenizer.json'));
    if (!tokenizerJson) throw new Error(`${path}: neither vocab.txt nor tokenizer.json found`);
    return WordPieceTokenizer.fromTokenizerJson(tokenizerJson, { ...fromConfig, ...overrides });
  }

  tokenToId(token: string): number {
    return this.vocab.get(token) ?? this.unkId;
  }

  get specialPrefix(): number[] {
    return [this.clsId];
  }

  get specialSuffix(): number[] {
    return [this.sepId];
  }

  /** vocab.txt and the tokenizer_config.json that reloads it with the same casing and special tokens. */
  files(): Map<string, string> {
    const config = {
      do_lower_case: this.basic.lowercase,
      strip_accents: this.basic.stripAccents,
      tokenize_chinese_chars: this.basic.splitChineseChars,
      unk_token: this.idToToken[this.unkId],
      cls_token: this.idToToken[this.clsId],
      sep_token: this.idToToken[this.sepId],
      pad_token: this.idToToken[this.padId],
      ...(this.maskId !== undefined ? { mask_token: this.idToToken[this.maskId] } : {}),
      tokenizer_class: 'BertTokenizer',
    };
    return new Map([
      ['vocab.txt', this.idToToken.join('\n') + '\n'],
      ['tokenizer_config.json', JSON.stringify(config, null, 2) + '\n'],
    ]);
  }

  /** Subword tokens of raw text, without special tokens. */
  tokenize(text: string): SubwordToken[] {
    const out: SubwordToken[] = [];
    this.basic.tokenize(text).forEach((word, wordIndex) => this.wordPieces(word, wordIndex, 0, out));
    return out;
  }

  encode(text: string, options: EncodeOptions = {}): Encoding {
    return this.toEncoding(this.tokenize(text), options);
  }

  /**
   * Pre-tokenized input (NER): each word is tokenized on its own and keeps its index in wordIds. Offsets refer
   * to the words joined by single spaces, so they stay meaningful for callers that rebuild the text that way.
   */
  encodeWords(words: readonly string[], options: EncodeOptions = {}): Encoding {
    const out: SubwordToken[] = [];
    let base = 0;
    words.forEach((word, wordIndex) => {
      for (const basicWord of this.basic.tokenize(word)) this.wordPieces(basicWord, wordIndex, base, out);
      base += word.length + 1;
    });
    return this.toEncoding(out, options);
  }

  decode(ids: number[], skipSpecialTokens = true): string {
    const special = new Set([this.clsId, this.sepId, this.padId, this.maskId]);
    const tokens = ids.filter((id) => !(skipSpecialTokens && special.has(id))).map((id) => this.idToToken[id] ?? '[UNK]');
    return tokens.join(' ').split(` ${this.continuingSubwordPrefix}`).join('');
  }

  private toEncoding(pieces: SubwordToken[], { addSpecialTokens = true }: EncodeOptions): Encoding {
    return toEncoding(pieces, this.specialPrefix, this.specialSuffix, this.idToToken, addSpecialTokens);
  }

  /** Greedy longest-match-first; a word with any unmatchable remainder becomes one [UNK], as in BERT. */
  private wordPieces(word: BasicWord, wordIndex: number, base: number, out: SubwordToken[]): void {
    const { chars, charSpans } = word;
    const unknown = () => out.push({ token: this.idToToken[this.unkId]!, id: this.unkId, start: base + word.start, end: base + word.end, wordIndex });
    if (chars.length > this.maxInputCharsPerWord) return void unknown();
    const pieces: SubwordToken[] = [];
    for (let start = 0; start < chars.length; ) {
      let end = Math.min(chars.length, start + this.longestTokenChars);
      let found: { token: string; id: number } | null = null;
      for (; end > start; end--) {
        const candidate = (start > 0 ? this.continuingSubwordPrefix : '') + chars.slice(start, end).join('');
        const id = this.vocab.get(candidate);
        if (id !== undefined) {
          found = { token: candidate, id };
          break;
        }
      }
      if (!found) return void unknown();
      pieces.push({ ...found, start: base + charSpans[start]![0], end: base + charSpans[end - 1]![1], wordIndex });
      start = end;
    }
    out.push(...pieces);
  }
}

async function readJsonIfPresent(path: string): Promise<Record<string, unknown> | null> {
  try {
    return JSON.parse(await platform.fs.readFile(path, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}
