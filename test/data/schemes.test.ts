import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { countEntityTypes, groupRareTypes, mapEntityTypes } from '../../src/data/label-maps.js';
import { convertScheme, parseTag, repairTags, spansToTags, tagsToSpans, validateTags, type LabelScheme } from '../../src/data/schemes.js';

describe('label schemes', () => {
  const iob2 = ['B-PER', 'I-PER', 'B-PER', 'O', 'B-LOC', 'B-ORG', 'I-ORG', 'I-ORG'];
  const iob1 = ['I-PER', 'I-PER', 'B-PER', 'O', 'I-LOC', 'I-ORG', 'I-ORG', 'I-ORG'];
  const iobes = ['B-PER', 'E-PER', 'S-PER', 'O', 'S-LOC', 'B-ORG', 'I-ORG', 'E-ORG'];

  it('converts among IOB1, IOB2 and IOBES', () => {
    expect(convertScheme(iob2, 'iob2', 'iob1')).toEqual(iob1);
    expect(convertScheme(iob1, 'iob1', 'iob2')).toEqual(iob2);
    expect(convertScheme(iob2, 'iob2', 'iobes')).toEqual(iobes);
    expect(convertScheme(iobes, 'iobes', 'iob2')).toEqual(iob2);
    expect(parseTag('U-Drug')).toEqual({ prefix: 'S', type: 'Drug' });
    expect(() => parseTag('B_PER')).toThrow(/malformed tag/);
  });

  it('validates each scheme and repairs invalid sequences', () => {
    expect(validateTags(iob2, 'iob2')).toEqual([]);
    expect(validateTags(iob1, 'iob1')).toEqual([]);
    expect(validateTags(iobes, 'iobes')).toEqual([]);
    const orphan = ['O', 'I-Disease', 'I-Disease', 'B-Drug', 'I-Disease'];
    expect(validateTags(orphan, 'iob2').map((v) => v.index)).toEqual([1, 4]);
    expect(repairTags(orphan, 'iob2')).toEqual(['O', 'B-Disease', 'I-Disease', 'B-Drug', 'B-Disease']);
    const unclosed = ['B-X', 'I-X', 'O', 'I-Y'];
    expect(validateTags(unclosed, 'iobes').length).toBeGreaterThan(0);
    expect(repairTags(unclosed, 'iobes')).toEqual(['B-X', 'E-X', 'O', 'S-Y']);
    expect(validateTags(['B-X', 'E-X'], 'iob2')[0]!.reason).toMatch(/not part of IOB2/);
  });

  it('property: spans survive a round trip through every scheme, and output validates', () => {
    const schemes: LabelScheme[] = ['iob1', 'iob2', 'iobes'];
    const spans = fc.array(fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 2 }), fc.constantFrom('A', 'B')), { maxLength: 8 }).map((parts) => {
      let at = 0;
      return parts.map(([length, gap, type]) => {
        const span = { type, start: at + gap, end: at + gap + length };
        at = span.end;
        return span;
      });
    });
    fc.assert(
      fc.property(spans, fc.constantFrom(...schemes), (list, scheme) => {
        const length = list.length ? list[list.length - 1]!.end + 1 : 0;
        const tags = spansToTags(list, length, scheme);
        expect(tagsToSpans(tags, scheme)).toEqual(list);
        expect(validateTags(tags, scheme)).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});

describe('label maps', () => {
  const sentences = [
    { tokens: ['a', 'b', 'c', 'd'], tags: ['B-SpecificDisease', 'B-DiseaseClass', 'O', 'B-Modifier'] },
    { tokens: ['e', 'f'], tags: ['B-Gene', 'I-Gene'] },
  ];

  it('collapses types and keeps adjacent entities apart', () => {
    const collapsed = mapEntityTypes(sentences, { SpecificDisease: 'Disease', DiseaseClass: 'Disease', Modifier: 'Disease', Gene: null });
    expect(collapsed[0]!.tags).toEqual(['B-Disease', 'B-Disease', 'O', 'B-Disease']);
    expect(collapsed[1]!.tags).toEqual(['O', 'O']);
    expect(countEntityTypes(collapsed)).toEqual(new Map([['Disease', 3]]));
  });

  it('groups types rarer than a threshold under Other', () => {
    const extra = { tokens: ['g'], tags: ['B-Gene'] };
    const { sentences: grouped, grouped: rare } = groupRareTypes([...sentences, extra], 2);
    expect([...rare.keys()].sort()).toEqual(['DiseaseClass', 'Modifier', 'SpecificDisease']);
    expect(grouped[0]!.tags).toEqual(['B-Other', 'B-Other', 'O', 'B-Other']);
    expect(grouped[1]!.tags).toEqual(['B-Gene', 'I-Gene']);
  });
});
