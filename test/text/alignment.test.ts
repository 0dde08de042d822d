import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { firstSubwordIndex, labelSubwords, subwordsToWords, tokensInCharSpan } from '../../src/text/alignment.js';
import { centrality, mergeWindowPredictions, slidingWindows } from '../../src/text/windows.js';

// [CLS] hyper ##tension in rats [SEP]: word 0 has two subwords.
const wordIds = [null, 0, 0, 1, 2, null];

describe('word <-> subword alignment', () => {
  it('labels the first subword only, or all of them', () => {
    const labels = ['B-Disease', 'O', 'O'];
    expect(labelSubwords(wordIds, labels, { ignoreLabel: 'X' })).toEqual(['X', 'B-Disease', 'X', 'O', 'O', 'X']);
    expect(labelSubwords(wordIds, labels, { mode: 'all', ignoreLabel: 'X' })).toEqual(['X', 'B-Disease', 'B-Disease', 'O', 'O', 'X']);
    const toInside = (l: string) => l.replace(/^B-/, 'I-');
    expect(labelSubwords(wordIds, labels, { mode: 'all', ignoreLabel: 'X', continuationLabel: toInside })).toEqual(['X', 'B-Disease', 'I-Disease', 'O', 'O', 'X']);
    expect(() => labelSubwords(wordIds, ['O'], { ignoreLabel: 'X' })).toThrow(/word 1 has no label/);
  });

  it('pools subword predictions back to words by first subword', () => {
    expect(firstSubwordIndex(wordIds, 4)).toEqual([1, 3, 4, -1]);
    expect(subwordsToWords(wordIds, ['-', 'a', 'b', 'c', 'd', '-'], 4, '?')).toEqual(['a', 'c', 'd', '?']);
  });

  it('finds tokens overlapping a character span', () => {
    expect(tokensInCharSpan([[0, 0], [0, 5], [5, 12], [13, 15], [0, 0]], 3, 13)).toEqual([1, 2]);
  });
});

describe('sliding windows', () => {
  it('covers a long sequence with windows of maxLength advancing by stride', () => {
    expect(slidingWindows(10, 4, 3)).toEqual([{ start: 0, end: 4 }, { start: 3, end: 7 }, { start: 6, end: 10 }]);
    expect(slidingWindows(11, 4, 3)).toEqual([{ start: 0, end: 4 }, { start: 3, end: 7 }, { start: 6, end: 10 }, { start: 7, end: 11 }]);
    expect(slidingWindows(3, 4, 2)).toEqual([{ start: 0, end: 3 }]);
    expect(() => slidingWindows(10, 4, 5)).toThrow(/stride/);
  });

  it('gives each position the prediction of the window where it is most central', () => {
    const windows = slidingWindows(10, 6, 4); // [0,6) [4,10)
    const predictions = windows.map((w, k) => Array.from({ length: w.end - w.start }, () => `w${k}`));
    // Position 4: centrality 1 in window 0, 0 in window 1 -> w0; position 5: 0 in w0, 1 in w1 -> w1.
    expect(mergeWindowPredictions(10, windows, predictions)).toEqual(['w0', 'w0', 'w0', 'w0', 'w0', 'w1', 'w1', 'w1', 'w1', 'w1']);
  });

  it('property: every position is covered and takes a maximal-centrality window', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 64 }), (length, maxLength, strideSeed) => {
        const stride = 1 + (strideSeed % maxLength);
        const windows = slidingWindows(length, maxLength, stride);
        for (const w of windows) expect(w.end - w.start).toBeLessThanOrEqual(maxLength);
        const merged = mergeWindowPredictions(length, windows, windows.map((_, k) => Array.from({ length: windows[k]!.end - windows[k]!.start }, () => k)));
        merged.forEach((k, position) => {
          const best = Math.max(...windows.filter((w) => w.start <= position && position < w.end).map((w) => centrality(w, position)));
          expect(centrality(windows[k]!, position)).toBe(best);
        });
      }),
      { numRuns: 200 },
    );
  });
});
