import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { countEntityTypes, groupRareTypes, mapEntityTypes } from '../../src/data/label-maps.js';
import { convertScheme, parseScheme, parseTag, repairTags, spansToTags, tagsToSpans, validateTags, type LabelScheme } from '../../src/data/schemes.js';
import { resolveConfig } from '../../src/train/config.js';

describe('label schemes', () => {
  const iob2 = ['B-PER', 'I-PER', 'B-PER', 'O', 'B-LOC', 'B-ORG', 'I-ORG', 'I-ORG'];
  const iob1 = ['I-PER', 'I-PER', 'B-PER', 'O', 'I-LOC', 'I-ORG', 'I-ORG', 'I-ORG'];
  const iobes = ['B-PER', 'E-PER', 'S-PER', 'O', 'S-LOC', 'B-ORG', 'I-ORG', 'E-ORG'];

  it('converts among IOB1, BIO and BIOES', () => {
    expect(convertScheme(iob2, 'BIO', 'IOB1')).toEqual(iob1);
    expect(convertScheme(iob1, 'IOB1', 'BIO')).toEqual(iob2);
    expect(convertScheme(iob2, 'BIO', 'BIOES')).toEqual(iobes);
    expect(convertScheme(iobes, 'BIOES', 'BIO')).toEqual(iob2);
    expect(parseTag('U-Drug')).toEqual({ prefix: 'S', type: 'Drug' });
    expect(() => parseTag('B_PER')).toThrow(/malformed tag/);
  });

  it('one set of names (BIO, BIOES, IOB1); iob2, iobes and bilou are accepted for them where users type them', () => {
    expect(['BIO', 'bio', 'iob2', 'IOB2'].map((n) => parseScheme(n))).toEqual(['BIO', 'BIO', 'BIO', 'BIO']);
    expect(['BIOES', 'iobes', 'IOBES', 'bilou'].map((n) => parseScheme(n))).toEqual(['BIOES', 'BIOES', 'BIOES', 'BIOES']);
    expect(parseScheme('iob1')).toBe('IOB1');
    expect(() => parseScheme('iob1', ['BIO', 'BIOES'])).toThrow(/unknown label scheme 'iob1' \(expected BIO or BIOES; iob2 is BIO, iobes is BIOES\)/);
    // Config files (and checkpoints, whose training settings go through resolveConfig) may say iob2 or iobes.
    expect(resolveConfig({ scheme: 'iobes' }, 'c.json').scheme).toBe('BIOES');
    expect(resolveConfig({ scheme: 'iob2' }, 'c.json').scheme).toBe('BIO');
    expect(() => resolveConfig({ scheme: 'IOB1' }, 'c.json')).toThrow(/c\.json: "scheme" must be one of BIO, BIOES, got "IOB1"/);
  });

  it('validates each scheme and repairs invalid sequences', () => {
    expect(validateTags(iob2, 'BIO')).toEqual([]);
    expect(validateTags(iob1, 'IOB1')).toEqual([]);
    expect(validateTags(iobes, 'BIOES')).toEqual([]);
    const orphan = ['O', 'I-Disease', 'I-Disease', 'B-Drug', 'I-Disease'];
    expect(validateTags(orphan, 'BIO').map((v) => v.index)).toEqual([1, 4]);
    expect(repairTags(orphan, 'BIO')).toEqual(['O', 'B-Disease', 'I-Disease', 'B-Drug', 'B-Disease']);
    const unclosed = ['B-X', 'I-X', 'O', 'I-Y'];
    expect(validateTags(unclosed, 'BIOES').length).toBeGreaterThan(0);
    expect(repairTags(unclosed, 'BIOES')).toEqual(['B-X', 'E-X', 'O', 'S-Y']);
    expect(validateTags(['B-X', 'E-X'], 'BIO')[0]!.reason).toMatch(/not part of BIO/);
  });

  it('property: spans survive a round trip through every scheme, and output validates', () => {
    const schemes: LabelScheme[] = ['IOB1', 'BIO', 'BIOES'];
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
