// Code-point offsets in every reader and writer that crosses to other tools: brat, PubTator and JSONL.
// Python counts "😀 Aspirin" as Aspirin at 2; JavaScript's UTF-16 index is 3.

import { describe, expect, it } from 'vitest';
import { formatBratAnn, parseBratAnn } from '../../src/data/brat.js';
import { formatPubtator, parsePubtator } from '../../src/data/pubtator.js';
import { formatJsonl, parseJsonl } from '../../src/data/jsonl.js';
import { documentToSentences, sentencesToDocuments } from '../../src/data/documents.js';

const TEXT = '😀 Aspirin causes 𠀀 bleeding.';

describe('code-point offsets', () => {
  it('brat: .ann offsets are code points on reading and writing', () => {
    const entities = parseBratAnn('T1\tDrug 2 9\tAspirin\nT2\tSymptom 19 27\tbleeding\n', TEXT, 'x.ann');
    expect(entities.map((e) => TEXT.slice(e.start, e.end))).toEqual(['Aspirin', 'bleeding']);
    expect(entities[0]).toMatchObject({ start: 3, end: 10 }); // UTF-16 inside
    expect(formatBratAnn(entities, TEXT)).toBe('T1\tDrug 2 9\tAspirin\nT2\tSymptom 19 27\tbleeding\n');
    expect(() => parseBratAnn('T1\tDrug 2 29\tx\n', TEXT, 'x.ann')).toThrow('x.ann:1: offset 29 past the end');
    expect(parseBratAnn('T1\tDrug 27 27\t\n', TEXT)[0]).toMatchObject({ start: 29, end: 29 });
  });

  it('PubTator: mention offsets are code points on reading and writing', () => {
    const file = `1|t|😀 Aspirin\n1|a|causes 𠀀 bleeding.\n1\t2\t9\tAspirin\tChemical\tD001241\n1\t19\t27\tbleeding\tDisease\tD006470\n`;
    const [doc] = parsePubtator(file);
    expect(doc!.text).toBe(TEXT);
    expect(doc!.entities.map((e) => doc!.text.slice(e.start, e.end))).toEqual(['Aspirin', 'bleeding']);
    expect(doc!.textMismatches).toBe(0);
    expect(formatPubtator([doc!])).toBe(file);
  });

  it('JSONL: token offsets are code points across a document\'s sentences, and round-trip', () => {
    const text = `${TEXT}\n𠀀𠀁 Aspirin again.`;
    const second = text.lastIndexOf('Aspirin');
    const doc = { id: 'd1', text, entities: [{ type: 'Drug', start: 3, end: 10 }, { type: 'Drug', start: second, end: second + 7 }] };
    const sentences = documentToSentences(doc);
    const jsonl = formatJsonl(sentences);
    const lines = jsonl.trim().split('\n').map((l) => JSON.parse(l));
    const cp = [...doc.text];
    for (const line of lines) line.tokens.forEach((t: string, i: number) => expect(cp.slice(line.offsets[i][0], line.offsets[i][1]).join('')).toBe(t));
    expect(lines[0].doc_id).toBe('d1');
    expect(parseJsonl(jsonl)).toEqual(sentences);
    // Back to a document: same text positions, same entities.
    const [rebuilt] = sentencesToDocuments(parseJsonl(jsonl));
    expect(rebuilt!.entities.map((e) => rebuilt!.text.slice(e.start, e.end))).toEqual(['Aspirin', 'Aspirin']);
  });
});
