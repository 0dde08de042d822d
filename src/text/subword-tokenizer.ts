// What every subword tokenizer gives the rest of medner (WordPiece, byte-level BPE, SentencePiece unigram):
// ids with their character spans and word indices, the special tokens the model's template puts around a
// sequence, and the files that reproduce it in a checkpoint.

export interface SubwordToken {
  token: string;
  id: number;
  start: number;
  end: number;
  /** Index of the word it belongs to (basic-tokenizer word for `tokenize`, input word for `encodeWords`). */
  wordIndex: number;
}

export interface Encoding {
  ids: number[];
  tokens: string[];
  /** Character spans (UTF-16 [start, end)) in the original text; [0, 0] for special tokens. */
  offsets: [number, number][];
  /** Word index per position; null for special tokens. */
  wordIds: (number | null)[];
  attentionMask: number[];
  tokenTypeIds: number[];
}

export interface EncodeOptions {
  addSpecialTokens?: boolean;
}

export type TokenizerKind = 'wordpiece' | 'bpe' | 'unigram';

export interface SubwordTokenizer {
  readonly kind: TokenizerKind;
  /** Token text by id; its length is the vocabulary size (added tokens included). */
  readonly idToToken: readonly string[];
  readonly unkId: number;
  readonly padId: number;
  /** The sequence-start / sequence-end tokens a classifier reads ([CLS]/[SEP], <s>/</s>); for GPT-style vocabularies, end-of-text. */
  readonly clsId: number;
  readonly sepId: number;
  readonly maskId: number | undefined;
  /** What the model's post-processor puts before and after one sequence ([CLS] ... [SEP], <s> ... </s>, nothing for GPT-2). */
  readonly specialPrefix: readonly number[];
  readonly specialSuffix: readonly number[];
  tokenToId(token: string): number;
  encode(text: string, options?: EncodeOptions): Encoding;
  /**
   * Pre-tokenized input (NER), as Hugging Face's is_split_into_words=True: each word is tokenized on its own
   * (byte-level BPE with add_prefix_space=True, so every word reads as a word after a space) and keeps its
   * index in wordIds. Offsets refer to the words joined by single spaces.
   */
  encodeWords(words: readonly string[], options?: EncodeOptions): Encoding;
  /** The files (name -> text or bytes) that load back into this tokenizer, for a checkpoint directory. */
  files(): Map<string, string | Uint8Array>;
}

/** Assemble an Encoding from subword tokens, with the model's special tokens around them when asked. */
export function toEncoding(pieces: readonly SubwordToken[], prefix: readonly number[], suffix: readonly number[], idToToken: readonly string[], addSpecialTokens: boolean): Encoding {
  const special = (id: number) => ({ id, token: idToToken[id] ?? '', offset: [0, 0] as [number, number] });
  const before = addSpecialTokens ? prefix.map(special) : [];
  const after = addSpecialTokens ? suffix.map(special) : [];
  const ids = [...before.map((s) => s.id), ...pieces.map((p) => p.id), ...after.map((s) => s.id)];
  return {
    ids,
    tokens: [...before.map((s) => s.token), ...pieces.map((p) => p.token), ...after.map((s) => s.token)],
    offsets: [...before.map((s) => s.offset), ...pieces.map((p): [number, number] => [p.start, p.end]), ...after.map((s) => s.offset)],
    wordIds: [...before.map(() => null), ...pieces.map((p) => p.wordIndex), ...after.map(() => null)],
    attentionMask: ids.map(() => 1),
    tokenTypeIds: ids.map(() => 0),
  };
}
