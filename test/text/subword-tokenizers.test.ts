// Byte-level BPE and SentencePiece unigram tokenizers against Hugging Face's `tokenizers` (fixtures written by
// tools/fixtures/make-subword-fixtures.mjs from the real tokenizer files under test/fixtures/tokenizers/).
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { HfTokenizer, type TokenizerJson } from '../../src/text/hf-tokenizer.js';
import { loadTokenizer } from '../../src/text/load-tokenizer.js';
import type { SubwordTokenizer } from '../../src/text/subword-tokenizer.js';

const dir = (name: string) => fileURLToPath(new URL(`../fixtures/tokenizers/${name}`, import.meta.url));

interface Expected {
  texts: { text: string; ids: number[]; offsets: [number, number][]; withSpecialTokens: number[] }[];
  words: { words: string[]; ids: number[]; offsets: [number, number, number][] }[];
}

/** HF's offsets count code points (Python's str); medner's are UTF-16 indices (JavaScript's). */
function toCodePoints(text: string, offset: number): number {
  return [...text.slice(0, offset)].length;
}

/**
 * ModernBERT's tokenizer as its model card describes it (the published file was not found): OLMo's plus
 * [UNK] [CLS] [SEP] [PAD] [MASK] at 50280-50284 and a [CLS] A [SEP] template; the same JSON as
 * tools/fixtures/make-subword-fixtures.mjs builds for expected-modernbert-style.json.
 */
function modernBertStyle(json: TokenizerJson): TokenizerJson {
  const copy = structuredClone(json);
  ['[UNK]', '[CLS]', '[SEP]', '[PAD]', '[MASK]'].forEach((content, i) =>
    copy.added_tokens!.push({ id: 50280 + i, content, single_word: false, lstrip: content === '[MASK]', rstrip: false, normalized: false, special: true }));
  const special = (id: string) => ({ SpecialToken: { id, type_id: 0 } });
  copy.post_processor = {
    type: 'TemplateProcessing',
    single: [special('[CLS]'), { Sequence: { id: 'A', type_id: 0 } }, special('[SEP]')],
    special_tokens: { '[CLS]': { id: '[CLS]', ids: [50281], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [50282], tokens: ['[SEP]'] } },
  };
  return copy;
}

const cases: { name: string; expected: string; load: () => Promise<SubwordTokenizer> }[] = [
  ...readdirSync(dir('.'), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(`${dir(d.name)}/expected.json`))
    .map((d) => ({ name: d.name, expected: `${dir(d.name)}/expected.json`, load: () => loadTokenizer(dir(d.name)) })),
  {
    name: 'ModernBERT-style (OLMo + [CLS] A [SEP])',
    expected: `${dir('olmo')}/expected-modernbert-style.json`,
    load: async () => new HfTokenizer(modernBertStyle(JSON.parse(readFileSync(`${dir('olmo')}/tokenizer.json`, 'utf8')) as TokenizerJson)),
  },
];

describe.each(cases)('$name matches Hugging Face', ({ expected: expectedPath, load: loadIt }) => {
  const expected = JSON.parse(readFileSync(expectedPath, 'utf8')) as Expected;
  let tokenizer: SubwordTokenizer;
  const load = async () => (tokenizer ??= await loadIt());

  it('ids and offsets of every string', async () => {
    const t = await load();
    expect(expected.texts.length).toBeGreaterThan(20);
    for (const { text, ids, offsets, withSpecialTokens } of expected.texts) {
      const encoding = t.encode(text, { addSpecialTokens: false });
      expect(encoding.ids, text).toEqual(ids);
      expect(encoding.offsets.map(([s, e]) => [toCodePoints(text, s), toCodePoints(text, e)]), text).toEqual(offsets);
      expect(t.encode(text).ids, text).toEqual(withSpecialTokens);
    }
  });

  it('pre-split words as is_split_into_words=True', async () => {
    const t = await load();
    for (const { words, ids, offsets } of expected.words) {
      const encoding = t.encodeWords(words, { addSpecialTokens: false });
      expect(encoding.ids, words.join(' ')).toEqual(ids);
      // medner's offsets are into the words joined by single spaces; HF's are into each word.
      const bases = words.map((_, i) => words.slice(0, i).join(' ').length + (i > 0 ? 1 : 0));
      const local = encoding.offsets.map(([s, e], k) => {
        const w = encoding.wordIds[k]!;
        const word = words[w]!;
        return [w, toCodePoints(word, s - bases[w]!), toCodePoints(word, e - bases[w]!)];
      });
      expect(local, words.join(' ')).toEqual(offsets);
    }
  });
});

describe('bad tokenizer files are named with the byte or line at fault', () => {
  const made: string[] = [];
  afterAll(() => made.forEach((path) => rmSync(path, { recursive: true, force: true })));
  const scratch = (files: Record<string, string | Uint8Array>) => {
    const path = mkdtempSync(join(tmpdir(), 'medner-tok-'));
    made.push(path);
    for (const [name, content] of Object.entries(files)) writeFileSync(join(path, name), content);
    return path;
  };

  it('a truncated spiece.model', async () => {
    const bytes = readFileSync(`${dir('albert-base-v2')}/spiece.model`);
    const path = scratch({ 'spiece.model': bytes.subarray(0, 1000) });
    await expect(loadTokenizer(path)).rejects.toThrow(/spiece\.model: byte \d+: field of \d+ bytes runs past the end/);
  });

  it('a file that is not a SentencePiece model', async () => {
    const path = scratch({ 'spiece.model': new TextEncoder().encode('{"this": "is json"}') });
    await expect(loadTokenizer(path)).rejects.toThrow(/spiece\.model: (byte \d+: .*|no pieces \(not a SentencePiece model\?\))/);
  });

  it('a tokenizer.json with a pre-tokenizer medner does not implement', async () => {
    const path = scratch({ 'tokenizer.json': JSON.stringify({ model: { type: 'BPE', vocab: { a: 0 }, merges: [] }, pre_tokenizer: { type: 'Digits' } }) });
    await expect(loadTokenizer(path)).rejects.toThrow(/tokenizer\.json: pre-tokenizer "Digits" is not supported/);
  });
});
