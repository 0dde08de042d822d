// Byte-pair encoding (the `tokenizers` BPE model) and GPT-2's byte-level alphabet; plus the tokenizer.json
// that Hugging Face's converters build from a GPT-2 / RoBERTa / GPT-Neo vocab.json + merges.txt.

import type { ModelToken, TokenModel, TokenizerJson, AddedTokenJson } from './hf-tokenizer.js';

/** GPT-2's bytes_to_unicode: printable bytes stand for themselves, the others for code points from 256 on. */
export const BYTE_TO_CHAR: readonly string[] = (() => {
  const table: string[] = new Array(256);
  let next = 256;
  for (let byte = 0; byte < 256; byte++) {
    const printable = (byte >= 33 && byte <= 126) || (byte >= 161 && byte <= 172) || (byte >= 174 && byte <= 255);
    table[byte] = String.fromCodePoint(printable ? byte : next++);
  }
  return table;
})();

const MAX_CACHED_WORDS = 100_000;

export class BpeModel implements TokenModel {
  private readonly ranks = new Map<string, number>();
  private readonly cache = new Map<string, ModelToken[]>();

  constructor(
    readonly vocab: ReadonlyMap<string, number>,
    merges: readonly (readonly [string, string])[],
    readonly unkId: number | null,
    private readonly options: { fuseUnk: boolean; ignoreMerges: boolean },
    where: string,
  ) {
    merges.forEach(([a, b], rank) => {
      if (!vocab.has(a + b)) throw new Error(`${where}: merge ${rank + 1} (${a} ${b}) makes ${a + b}, which is not in the vocabulary`);
      const key = pairKey(a, b);
      if (!this.ranks.has(key)) this.ranks.set(key, rank);
    });
  }

  static fromJson(model: Record<string, unknown>, where: string): BpeModel {
    const vocab = model.vocab as Record<string, number> | undefined;
    if (!vocab || typeof vocab !== 'object') throw new Error(`${where}: BPE model without a vocab`);
    for (const key of ['continuing_subword_prefix', 'end_of_word_suffix'] as const) {
      if (model[key]) throw new Error(`${where}: BPE ${key} ${JSON.stringify(model[key])} is not supported (byte-level BPE has none)`);
    }
    if (model.byte_fallback === true) throw new Error(`${where}: BPE byte_fallback is not supported`);
    const merges = ((model.merges as unknown[]) ?? []).map((merge, i): [string, string] => {
      if (Array.isArray(merge) && merge.length === 2) return [String(merge[0]), String(merge[1])];
      const parts = typeof merge === 'string' ? merge.split(' ') : [];
      if (parts.length !== 2) throw new Error(`${where}: merge ${i + 1} ${JSON.stringify(merge)} is not a pair`);
      return [parts[0]!, parts[1]!];
    });
    const vocabMap = new Map(Object.entries(vocab));
    const unk = typeof model.unk_token === 'string' ? vocabMap.get(model.unk_token) ?? null : null;
    return new BpeModel(vocabMap, merges, unk, { fuseUnk: model.fuse_unk === true, ignoreMerges: model.ignore_merges === true }, where);
  }

  tokenize(chars: readonly string[]): ModelToken[] {
    const word = chars.join('');
    const cached = this.cache.get(word);
    if (cached) return cached;
    const tokens = this.merge(chars);
    if (this.cache.size >= MAX_CACHED_WORDS) this.cache.clear();
    this.cache.set(word, tokens);
    return tokens;
  }

  private merge(chars: readonly string[]): ModelToken[] {
    const whole = chars.join('');
    if (this.options.ignoreMerges && this.vocab.has(whole)) return [{ id: this.vocab.get(whole)!, token: whole, start: 0, end: chars.length }];
    // Symbols: characters in the vocabulary; others become the unknown token (fused if asked) or are dropped.
    let symbols: { token: string; start: number; end: number; unknown: boolean }[] = [];
    chars.forEach((char, k) => {
      if (this.vocab.has(char)) symbols.push({ token: char, start: k, end: k + 1, unknown: false });
      else if (this.unkId !== null) {
        const last = symbols.at(-1);
        if (this.options.fuseUnk && last?.unknown) last.end = k + 1;
        else symbols.push({ token: char, start: k, end: k + 1, unknown: true });
      }
    });
    // Merge the lowest-ranked adjacent pair, leftmost first, until none is in the merge table.
    for (;;) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i + 1 < symbols.length; i++) {
        if (symbols[i]!.unknown || symbols[i + 1]!.unknown) continue;
        const rank = this.ranks.get(pairKey(symbols[i]!.token, symbols[i + 1]!.token));
        if (rank !== undefined && rank < bestRank) {
          bestRank = rank;
          best = i;
        }
      }
      if (best < 0) break;
      const [a, b] = [symbols[best]!, symbols[best + 1]!];
      symbols = [...symbols.slice(0, best), { token: a.token + b.token, start: a.start, end: b.end, unknown: false }, ...symbols.slice(best + 2)];
    }
    return symbols.map((s) => (s.unknown ? { id: this.unkId!, token: chars.slice(s.start, s.end).join(''), start: s.start, end: s.end } : { id: this.vocab.get(s.token)!, token: s.token, start: s.start, end: s.end }));
  }
}

function pairKey(a: string, b: string): string {
  return `${a}\u0000${b}`;
}

/** merges.txt: an optional '#version' line, then one "left right" pair per line. */
export function parseMergesText(text: string, where: string): [string, string][] {
  const merges: [string, string][] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '' || (i === 0 && line.startsWith('#version'))) return;
    const parts = line.split(' ');
    if (parts.length !== 2) throw new Error(`${where}:${i + 1}: expected two space-separated symbols, found ${JSON.stringify(line.slice(0, 60))}`);
    merges.push([parts[0]!, parts[1]!]);
  });
  return merges;
}

export interface ByteLevelBpeOptions {
  /** 'roberta': <s> A </s> with offsets trimmed (RobertaTokenizerFast); 'gpt2': no special tokens, offsets untrimmed (GPT2TokenizerFast). */
  template: 'roberta' | 'gpt2';
  addPrefixSpace?: boolean;
  /** Special token texts (tokenizer_config.json / special_tokens_map.json), with HF's defaults per template. */
  bos?: string;
  eos?: string;
  unk?: string;
  pad?: string;
  mask?: string;
  cls?: string;
  sep?: string;
}

/**
 * The tokenizer.json HF's RobertaConverter / GPT2Converter make from vocab.json + merges.txt: byte-level
 * pre-tokenizer, BPE, RobertaProcessing (trim_offsets) or ByteLevel (trim_offsets=False), and the special
 * tokens as added tokens (RoBERTa's <mask> takes the space before it, lstrip).
 */
export function byteLevelBpeJson(vocab: Record<string, number>, merges: [string, string][], options: ByteLevelBpeOptions, where: string): TokenizerJson {
  const roberta = options.template === 'roberta';
  const names = roberta
    ? { bos: options.bos ?? '<s>', eos: options.eos ?? '</s>', unk: options.unk ?? '<unk>', pad: options.pad ?? '<pad>', mask: options.mask ?? '<mask>', cls: options.cls ?? options.bos ?? '<s>', sep: options.sep ?? options.eos ?? '</s>' }
    : { bos: options.bos ?? '<|endoftext|>', eos: options.eos ?? '<|endoftext|>', unk: options.unk ?? '<|endoftext|>', pad: options.pad, mask: options.mask, cls: options.cls, sep: options.sep };
  const id = (token: string) => {
    const found = vocab[token];
    if (found === undefined) throw new Error(`${where}: special token ${token} is not in vocab.json`);
    return found;
  };
  const added: AddedTokenJson[] = [];
  const seen = new Set<string>();
  for (const [key, token] of Object.entries(names)) {
    if (token === undefined || seen.has(token) || vocab[token] === undefined) continue;
    seen.add(token);
    added.push({ id: id(token), content: token, single_word: false, lstrip: roberta && key === 'mask', rstrip: false, normalized: false, special: true });
  }
  added.sort((a, b) => a.id - b.id);
  const addPrefixSpace = options.addPrefixSpace ?? false;
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: addPrefixSpace, trim_offsets: true, use_regex: true },
    post_processor: roberta
      ? { type: 'RobertaProcessing', sep: [names.sep!, id(names.sep!)], cls: [names.cls!, id(names.cls!)], trim_offsets: true, add_prefix_space: addPrefixSpace }
      : { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, vocab, merges: merges.map(([a, b]) => `${a} ${b}`) },
  };
}
