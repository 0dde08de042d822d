// SentencePiece's unigram model as the `tokenizers` library runs it (Unigram::encode_optimized): the best
// segmentation by the sum of piece log-probabilities (Viterbi), a character no piece covers costing the
// lowest score minus 10 as the unknown token, consecutive unknowns fused into one. Plus the tokenizer.json
// HF's AlbertConverter builds from a spiece.model.

import type { AddedTokenJson, ModelToken, TokenModel, TokenizerJson } from './hf-tokenizer.js';
import type { SentencePieceModel } from './sentencepiece-model.js';

const UNKNOWN_PENALTY = 10;

interface TrieNode {
  next: Map<string, TrieNode>;
  id: number;
}

export class UnigramModel implements TokenModel {
  readonly vocab: Map<string, number>;
  readonly unkId: number | null;
  private readonly scores: number[];
  private readonly root: TrieNode = { next: new Map(), id: -1 };
  private readonly unknownScore: number;
  private readonly fuseUnknown = true;

  constructor(pieces: readonly (readonly [string, number])[], unkId: number | null, where: string) {
    this.vocab = new Map();
    this.scores = [];
    let minScore = Infinity;
    pieces.forEach(([piece, score], id) => {
      if (!this.vocab.has(piece)) this.vocab.set(piece, id);
      this.scores[id] = score;
      minScore = Math.min(minScore, score);
      let node = this.root;
      for (const char of piece) {
        let child = node.next.get(char);
        if (!child) node.next.set(char, (child = { next: new Map(), id: -1 }));
        node = child;
      }
      if (node.id < 0) node.id = id;
    });
    if (unkId !== null && (unkId < 0 || unkId >= pieces.length)) throw new Error(`${where}: unk_id ${unkId} is outside the ${pieces.length}-piece vocabulary`);
    this.unkId = unkId;
    this.unknownScore = minScore - UNKNOWN_PENALTY;
  }

  static fromJson(model: Record<string, unknown>, where: string): UnigramModel {
    const vocab = model.vocab;
    if (!Array.isArray(vocab)) throw new Error(`${where}: Unigram model without a vocab list`);
    if (model.byte_fallback === true) throw new Error(`${where}: Unigram byte_fallback is not supported`);
    const pieces = vocab.map((entry, i): [string, number] => {
      if (!Array.isArray(entry) || typeof entry[0] !== 'string' || typeof entry[1] !== 'number') throw new Error(`${where}: vocab entry ${i} is not [piece, score]`);
      return [entry[0], entry[1]];
    });
    return new UnigramModel(pieces, typeof model.unk_id === 'number' ? model.unk_id : null, where);
  }

  tokenize(chars: readonly string[]): ModelToken[] {
    const n = chars.length;
    if (n === 0) return [];
    // best[k]: the best path over chars[0, k): its score, where its last piece starts, which piece.
    const score = new Float64Array(n + 1);
    const from = new Int32Array(n + 1).fill(-1);
    const pieceId = new Int32Array(n + 1).fill(-1);
    for (let start = 0; start < n; start++) {
      if (start > 0 && from[start] < 0) continue;
      const base = score[start]!;
      let coversOneChar = false;
      let node: TrieNode | undefined = this.root;
      for (let end = start; end < n; end++) {
        node = node.next.get(chars[end]!);
        if (!node) break;
        if (node.id < 0) continue;
        const candidate = base + this.scores[node.id]!;
        if (from[end + 1] < 0 || candidate > score[end + 1]!) {
          score[end + 1] = candidate;
          from[end + 1] = start;
          pieceId[end + 1] = node.id;
        }
        if (end === start) coversOneChar = true;
      }
      if (!coversOneChar) {
        if (this.unkId === null) throw new Error(`Unigram: '${chars[start]}' is in no piece and the model has no unknown token`);
        const candidate = base + this.unknownScore;
        if (from[start + 1] < 0 || candidate > score[start + 1]!) {
          score[start + 1] = candidate;
          from[start + 1] = start;
          pieceId[start + 1] = this.unkId;
        }
      }
    }
    const reversed: ModelToken[] = [];
    for (let end = n; end > 0; end = from[end]!) {
      const start = from[end]!;
      const id = pieceId[end]!;
      const last = reversed.at(-1);
      if (this.fuseUnknown && id === this.unkId && last?.id === this.unkId) {
        last.start = start;
        last.token = chars.slice(start, last.end).join('');
      } else reversed.push({ id, token: chars.slice(start, end).join(''), start, end });
    }
    return reversed.reverse();
  }
}

/** ALBERT's check_number_comma: a piece like "9," is scored 100 lower, so digits and commas split as in ALBERT's own tokenizer. */
function albertScore(piece: string, score: number): number {
  const chars = [...piece];
  const penalized = chars.length >= 2 && chars.at(-1) === ',' && /^\d$/u.test(chars.at(-2)!);
  return penalized ? score - 100 : score;
}

export interface SentencePieceOptions {
  /** do_lower_case (ALBERT: true). */
  lowercase?: boolean;
  /** keep_accents (ALBERT: false: NFKD then accents stripped). */
  keepAccents?: boolean;
  cls?: string;
  sep?: string;
  pad?: string;
  mask?: string;
  unk?: string;
}

/**
 * The tokenizer.json HF's AlbertConverter (transformers' convert_slow_tokenizer) makes from spiece.model:
 * normalizer Replace(``, ") Replace('', ") [NFKD StripAccents] [Lowercase] Precompiled(charsmap) Replace(/ {2,}/, " "),
 * pre-tokenizer WhitespaceSplit + Metaspace(▁), Unigram with ALBERT's number-comma scores, post-processor
 * [CLS] A [SEP], ALBERT's five special tokens as added tokens -- the form of albert-base-v2's published
 * tokenizer.json, whose ids are SentencePiece's own (newer converters also add user-defined pieces such as
 * "(" as added tokens, which changes ids around them).
 */
export function albertTokenizerJson(model: SentencePieceModel, options: SentencePieceOptions = {}): TokenizerJson {
  const lowercase = options.lowercase ?? true;
  const keepAccents = options.keepAccents ?? false;
  const normalizers: unknown[] = [
    { type: 'Replace', pattern: { String: '``' }, content: '"' },
    { type: 'Replace', pattern: { String: "''" }, content: '"' },
  ];
  if (!keepAccents) normalizers.push({ type: 'NFKD' }, { type: 'StripAccents' });
  if (lowercase) normalizers.push({ type: 'Lowercase' });
  if (model.precompiledCharsmap.length > 0) normalizers.push({ type: 'Precompiled', precompiled_charsmap: toBase64(model.precompiledCharsmap) });
  normalizers.push({ type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' });
  const id = (piece: string) => model.pieces.findIndex((p) => p.piece === piece);
  const cls = options.cls ?? '[CLS]';
  const sep = options.sep ?? '[SEP]';
  // ALBERT's special tokens are added tokens, matched before normalization; [MASK] takes the space before it
  // (lstrip). Other control and user-defined pieces stay ordinary pieces, which keeps the fast tokenizer's ids
  // those of SentencePiece itself (ALBERT's slow tokenizer).
  const mask = options.mask ?? '[MASK]';
  const specials = new Set([options.pad ?? '<pad>', options.unk ?? '<unk>', cls, sep, mask]);
  const added: AddedTokenJson[] = model.pieces.flatMap((p, i) =>
    specials.has(p.piece) ? [{ id: i, content: p.piece, single_word: false, lstrip: p.piece === mask, rstrip: false, normalized: false, special: true }] : [],
  );
  const special = (piece: string) => ({ id: piece, ids: [id(piece)], tokens: [piece] });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: { type: 'Sequence', normalizers },
    pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'WhitespaceSplit' }, { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true }] },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: cls, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: sep, type_id: 0 } }],
      pair: [{ SpecialToken: { id: cls, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: sep, type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: sep, type_id: 1 } }],
      special_tokens: { [cls]: special(cls), [sep]: special(sep) },
    },
    decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
    model: { type: 'Unigram', unk_id: model.unkId, vocab: model.pieces.map((p) => [p.piece, albertScore(p.piece, p.score)]), byte_fallback: false },
  };
}

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}
