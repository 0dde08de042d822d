import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tokensInCharSpan } from '../../src/text/alignment.js';
import { tokenizeWords } from '../../src/text/segment.js';
import { WordPieceTokenizer } from '../../src/text/wordpiece.js';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/text/${name}`, import.meta.url));
const bert = WordPieceTokenizer.fromVocabText(readFileSync(fixture('bert-base-uncased/vocab.txt'), 'utf8'));
const biomed = WordPieceTokenizer.fromVocabText(readFileSync(fixture('biomedbert/vocab.txt'), 'utf8'));
const expected = JSON.parse(readFileSync(fixture('tokenizer-expected.json'), 'utf8')) as Record<string, { text: string; ids: number[] }[]>;

describe('WordPiece ids match Hugging Face', () => {
  for (const [name, tokenizer] of [['bert-base-uncased', bert], ['biomedbert-base-uncased-abstract-fulltext', biomed]] as const) {
    it(`${name}: every tricky string`, () => {
      expect(expected[name]!.length).toBeGreaterThan(10);
      for (const { text, ids } of expected[name]!) expect(tokenizer.encode(text, { addSpecialTokens: false }).ids, text).toEqual(ids);
    });
  }

  it('looks special tokens up by name', () => {
    expect([bert.clsId, bert.sepId, bert.padId, bert.unkId, bert.maskId]).toEqual([101, 102, 0, 100, 103]);
    expect([biomed.clsId, biomed.sepId, biomed.padId, biomed.unkId, biomed.maskId]).toEqual([2, 3, 0, 1, 4]);
    const encoding = biomed.encode('aspirin');
    expect(encoding.ids[0]).toBe(2);
    expect(encoding.ids.at(-1)).toBe(3);
    expect(encoding.wordIds[0]).toBeNull();
    expect(encoding.offsets[0]).toEqual([0, 0]);
  });

  it('turns a word longer than 100 characters into one [UNK] spanning it', () => {
    const long = 'a'.repeat(101);
    const encoding = bert.encode(`x ${long} y`, { addSpecialTokens: false });
    expect(encoding.tokens).toEqual(['x', '[UNK]', 'y']);
    expect(encoding.offsets[1]).toEqual([2, 103]);
    expect(bert.encode('a'.repeat(100), { addSpecialTokens: false }).tokens).not.toContain('[UNK]');
  });

  it('loads a model directory honouring tokenizer_config.json, and do_lower_case=false', async () => {
    const fromDir = await WordPieceTokenizer.load(fixture('biomedbert'));
    expect(fromDir.encode('Naloxone').ids).toEqual(biomed.encode('naloxone').ids);
    const cased = await WordPieceTokenizer.load(fixture('biomedbert'), { lowercase: false });
    expect(cased.encode('Naloxone', { addSpecialTokens: false }).ids).not.toEqual(biomed.encode('naloxone', { addSpecialTokens: false }).ids);
    expect(cased.encode('Café', { addSpecialTokens: false }).tokens.join('')).not.toBe('cafe');
  });

  it('reads a tokenizer.json WordPiece model with its normalizer settings', () => {
    const json = {
      normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: false },
      model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100,
        vocab: { '[PAD]': 0, '[UNK]': 1, '[CLS]': 2, '[SEP]': 3, Hyper: 4, '##tension': 5, hyper: 6, '-': 7 } },
    };
    const tokenizer = WordPieceTokenizer.fromTokenizerJson(json);
    expect(tokenizer.encode('Hypertension hypertension-').tokens).toEqual(['[CLS]', 'Hyper', '##tension', 'hyper', '##tension', '-', '[SEP]']);
    expect(() => WordPieceTokenizer.fromTokenizerJson({ model: { type: 'BPE' } })).toThrow(/WordPiece/);
  });

  it('encodes pre-tokenized words keeping word ids', () => {
    const encoding = bert.encodeWords(['Naloxone', 'reverses', 'clonidine', '.']);
    const words = encoding.wordIds.filter((w) => w !== null);
    expect(new Set(words)).toEqual(new Set([0, 1, 2, 3]));
    expect(encoding.tokens.slice(1, -1).join(' ')).toBe(bert.encode('Naloxone reverses clonidine .', { addSpecialTokens: false }).tokens.join(' '));
  });
});

// Characters chosen to exercise every BasicTokenizer path: accents, Greek, CJK, punctuation, spaces, controls.
const alphabet = [...'abcXYZ019éÉñüÅøαβΓδμ糖尿病型-,./()%°±µ’“ \t\n\u00a0\u0007\u200b'];
const randomText = fc.array(fc.constantFrom(...alphabet), { maxLength: 60 }).map((chars) => chars.join(''));
// BERT deletes control/format characters and glues their neighbours ("a\u0007a" -> "aa"), and symbols such as
// ° and ± are not punctuation to it ("37°c" is one word), so a word edge next to those is no BERT token edge:
// entity mapping is checked on text without them.
const randomTextWithoutControls = fc
  .array(fc.constantFrom(...alphabet.filter((c) => (!/^\p{C}$/u.test(c) || c === '\t' || c === '\n') && !/^\p{S}$/u.test(c))), { maxLength: 60 })
  .map((chars) => chars.join(''));

/** What BERT does to a span of original text before WordPiece: drop controls, lowercase, strip accents. */
function normalizeSlice(slice: string): string {
  return [...slice]
    .filter((c) => !/^\p{C}$/u.test(c) || c === '\t' || c === '\n')
    .join('')
    .toLowerCase()
    .normalize('NFD')
    .replace(/\p{Mn}/gu, '');
}

describe('offsets (property)', () => {
  it("each token's span of the input normalizes to the token text", () => {
    fc.assert(
      fc.property(randomText, (text) => {
        let previousEnd = 0;
        for (const token of bert.tokenize(text)) {
          expect(token.start).toBeGreaterThanOrEqual(previousEnd);
          expect(token.end).toBeLessThanOrEqual(text.length);
          previousEnd = token.end;
          const piece = token.token.startsWith('##') ? token.token.slice(2) : token.token;
          if (token.token !== '[UNK]') expect(normalizeSlice(text.slice(token.start, token.end))).toBe(piece);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('an entity given as a span of words maps back to the exact original substring', () => {
    fc.assert(
      fc.property(randomTextWithoutControls, fc.nat(), fc.nat(), (text, a, b) => {
        const words = tokenizeWords(text).filter((w) => /^[\p{L}\p{N}]/u.test(w.text));
        fc.pre(words.length > 0);
        const first = a % words.length;
        const last = first + (b % (words.length - first));
        const [start, end] = [words[first]!.start, words[last]!.end];
        const encoding = bert.encode(text);
        const covered = tokensInCharSpan(encoding.offsets, start, end);
        const spanStart = Math.min(...covered.map((i) => encoding.offsets[i]![0]));
        const spanEnd = Math.max(...covered.map((i) => encoding.offsets[i]![1]));
        expect(text.slice(spanStart, spanEnd)).toBe(text.slice(start, end));
      }),
      { numRuns: 1000 },
    );
  });
});
