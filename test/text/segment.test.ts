import { describe, expect, it } from 'vitest';
import { splitSentences, tokenizeWords } from '../../src/text/segment.js';

describe('sentence splitter', () => {
  it('splits at terminators, keeps offsets, and trims whitespace', () => {
    const text = 'Naloxone reverses it.  In rats (P=0. 048) it did. mRNA levels rose! Did they? Yes.';
    const sentences = splitSentences(text);
    expect(sentences.map((s) => s.text)).toEqual(['Naloxone reverses it.', 'In rats (P=0. 048) it did.', 'mRNA levels rose!', 'Did they?', 'Yes.']);
    for (const s of sentences) expect(text.slice(s.start, s.end)).toBe(s.text);
  });

  it('does not split after abbreviations, decimals, or before a plain lowercase word', () => {
    const text = 'Given 5 mg/kg i.v. Then e.g. aspirin vs. placebo at 0.5 mg. the dose was low.';
    expect(splitSentences(text).map((s) => s.text)).toEqual([text]);
  });

  it('splits Chinese at 。！？ without spaces, and optionally at line breaks', () => {
    expect(splitSentences('患者血糖高。给予治疗！好转？').map((s) => s.text)).toEqual(['患者血糖高。', '给予治疗！', '好转？']);
    expect(splitSentences('line one\nline two').length).toBe(1);
    expect(splitSentences('line one\nline two', { newlineIsBoundary: true }).map((s) => s.text)).toEqual(['line one', 'line two']);
  });
});

describe('word tokenizer', () => {
  it('splits punctuation and hyphens like the BC5CDR/NCBI IOB files', () => {
    const text = "Parkinson's [3H]-naloxone 0.2 mg/kg";
    expect(tokenizeWords(text).map((t) => t.text)).toEqual(['Parkinson', "'", 's', '[', '3H', ']', '-', 'naloxone', '0', '.', '2', 'mg', '/', 'kg']);
    for (const t of tokenizeWords(text)) expect(text.slice(t.start, t.end)).toBe(t.text);
  });

  it('makes each Han character a token and breaks at requested boundaries', () => {
    expect(tokenizeWords('2型糖尿病T2DM').map((t) => t.text)).toEqual(['2', '型', '糖', '尿', '病', 'T2DM']);
    expect(tokenizeWords('nalozone', 0, 8, new Set([3])).map((t) => t.text)).toEqual(['nal', 'ozone']);
    expect(tokenizeWords('ab cd ef', 3, 8).map((t) => [t.text, t.start])).toEqual([['cd', 3], ['ef', 6]]);
  });
});
