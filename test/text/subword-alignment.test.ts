// Word <-> subword alignment with byte-level BPE (a word's first subword carries the space marker 'Ġ') and
// SentencePiece ('▁'): every word gets its own subwords, labels spread and pool back by word, the encoder's
// word starts/ends (first and mean pooling) point at them, and entity spans map to the right tokens.
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { cpuBackend } from '../../src/index.js';
import { labelSubwords, subwordsToWords, tokensInCharSpan } from '../../src/text/alignment.js';
import { loadTokenizer } from '../../src/text/load-tokenizer.js';
import type { SubwordTokenizer } from '../../src/text/subword-tokenizer.js';
import { SubwordEncoder } from '../../src/train/encode.js';

const dir = (name: string) => fileURLToPath(new URL(`../fixtures/tokenizers/${name}`, import.meta.url));

const words = ['Cisplatin-induced', 'nephrotoxicity', 'in', 'BRCA1', 'carriers', '(', 'n', '=', '12', ')', 'with', 'naïve', 'Δ9-THC', '😀', '.'];
const tags = ['B-Chemical', 'B-Disease', 'O', 'B-Gene', 'O', 'O', 'O', 'O', 'O', 'O', 'O', 'O', 'B-Chemical', 'O', 'O'];

describe.each([
  ['roberta-base', 'Ġ', [0], [2]],
  ['gpt2', 'Ġ', [], []],
  ['olmo', 'Ġ', [], []],
  ['albert-base-v2', '▁', [2], [3]],
] as const)('%s', (name, marker, prefix, suffix) => {
  let tokenizer: SubwordTokenizer;
  beforeAll(async () => {
    tokenizer = await loadTokenizer(dir(name));
  });

  it(`each word's subwords are contiguous, the first carrying the space marker ${marker}`, () => {
    const encoding = tokenizer.encodeWords(words);
    expect(encoding.ids.slice(0, prefix.length)).toEqual(prefix);
    expect(encoding.ids.slice(encoding.ids.length - suffix.length)).toEqual(suffix);
    const wordIds = encoding.wordIds.filter((w): w is number => w !== null);
    expect(wordIds).toEqual([...wordIds].sort((a, b) => a - b));
    expect(new Set(wordIds)).toEqual(new Set(words.map((_, i) => i)));
    words.forEach((_, w) => expect(encoding.tokens[encoding.wordIds.indexOf(w)]!.startsWith(marker), `word ${w}`).toBe(true));
    // No subword other than a word's first starts with the marker: a word never splits into two "words".
    encoding.wordIds.forEach((w, k) => {
      if (w !== null && k > 0 && encoding.wordIds[k - 1] === w) expect(encoding.tokens[k]!.startsWith(marker), `${encoding.tokens[k]}`).toBe(false);
    });
  });

  it('labels spread over subwords and pool back to the words', () => {
    const encoding = tokenizer.encodeWords(words);
    const subwordLabels = labelSubwords(encoding.wordIds, tags, { ignoreLabel: 'X', mode: 'all', continuationLabel: (l) => l.replace(/^B-/, 'I-') });
    expect(subwordsToWords(encoding.wordIds, subwordLabels, words.length, '?')).toEqual(tags);
  });

  it("the encoder's word starts and ends (first and mean pooling) frame each word's subwords", () => {
    const encoder = new SubwordEncoder(tokenizer, 128);
    const { batch } = encoder.encode([{ tokens: words, tags }], new Map([...new Set(tags)].map((t, i) => [t, i])), cpuBackend);
    const ids = Array.from(batch.subwordIds!.dataSync());
    const starts = batch.hostWordStarts![0]!;
    const ends = batch.hostWordEnds![0]!;
    const encoding = tokenizer.encodeWords(words);
    expect(ids).toEqual(encoding.ids);
    words.forEach((_, w) => {
      const positions = encoding.wordIds.flatMap((id, k) => (id === w ? [k] : []));
      expect([starts[w], ends[w]]).toEqual([positions[0], positions.at(-1)! + 1]);
    });
    for (const t of Object.values(batch)) if (t && typeof t === 'object' && 'dispose' in t) (t as { dispose(): void }).dispose();
  });

  it('a word of more subwords than a window holds is cut to its first ones; a word of no subwords is one unknown token', () => {
    // A long chemical name or a DNA string in a model with a short --max-length: windows() counts the word
    // as at most the room between the special tokens, so encode() must cut it the same way, not throw.
    const encoder = new SubwordEncoder(tokenizer, 12);
    const budget = 12 - prefix.length - suffix.length;
    const long = 'ACGTTGCAAGCTTGGCACTGGCCGTCGTTTTACAACGTCGTGACTGGGAAAACCCTGGCG';
    expect(tokenizer.encodeWords([long], { addSpecialTokens: false }).ids.length).toBeGreaterThan(budget);
    const sentence = ['the', long, '\u200b', 'gene', '.'];
    const windows = encoder.windows(sentence);
    expect(windows.map((w) => [w.start, w.end]).flat()).toEqual(expect.arrayContaining([0, 5]));
    for (const window of windows) {
      const tokens = sentence.slice(window.start, window.end);
      const { batch } = encoder.encode([{ tokens, tags: tokens.map(() => 'O') }], new Map([['O', 0]]), cpuBackend);
      const starts = batch.hostWordStarts![0]!;
      const ends = batch.hostWordEnds![0]!;
      expect(batch.subwordLengths![0]).toBeLessThanOrEqual(12);
      tokens.forEach((_, w) => expect(ends[w]! - starts[w]!, `word ${window.start + w}`).toBeGreaterThanOrEqual(1));
      const at = tokens.indexOf(long);
      if (at >= 0) expect(ends[at]! - starts[at]!).toBe(budget);
      for (const t of Object.values(batch)) if (t && typeof t === 'object' && 'dispose' in t) (t as { dispose(): void }).dispose();
    }
  });

  it('no window lies inside another (a word would be trained on twice and tagged twice for nothing)', () => {
    const encoder = new SubwordEncoder(tokenizer, 12);
    const long = 'ACGTTGCAAGCTTGGCACTGGCCGTCGTTTTACAACGTCGTGACTGGGAAAACCCTGGCG';
    const windows = encoder.windows(['the', 'a', long, 'gene', long, 'of', 'the', 'patient', '.', ...words]);
    windows.forEach((w, i) => windows.forEach((v, j) => {
      if (i !== j) expect(v.start <= w.start && w.end <= v.end, `${JSON.stringify(w)} inside ${JSON.stringify(v)}`).toBe(false);
    }));
    expect(windows[0]!.start).toBe(0);
    expect(windows.at(-1)!.end).toBe(9 + words.length);
  });

  it('an entity span of the joined words maps to exactly its tokens', () => {
    const encoding = tokenizer.encodeWords(words);
    const start = words.slice(0, 12).join(' ').length + 1; // 'Δ9-THC'
    const end = start + words[12]!.length;
    const hits = tokensInCharSpan(encoding.offsets, start, end);
    expect(hits.length).toBeGreaterThan(0);
    expect(new Set(hits.map((k) => encoding.wordIds[k]))).toEqual(new Set([12]));
  });
});
