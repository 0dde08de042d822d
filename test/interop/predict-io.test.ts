// predict's inputs and outputs as other tools read them: every JSONL input field passes through, brat
// output of a multi-line input is one .txt/.ann pair whose offsets index that text, PubTator in and out,
// formats inferred from file names, and offsets in code points (emoji, CJK Extension B) everywhere.

import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseBratAnn } from '../../src/data/brat.js';
import { parsePubtator } from '../../src/data/pubtator.js';
import { OffsetMap } from '../../src/data/offsets.js';
import { inferPredictInput, inferPredictOutput } from '../../src/data/formats.js';
import { BC5CDR_PUBTATOR, medner, scratch, sliceCodePoints, trainedModel } from './helpers.js';

// Sentences of the training abstracts (so the model finds entities), behind astral characters.
const LINES = [
  '😀 Naloxone reverses the antihypertensive effect of clonidine.',
  '',
  '𠀀𠀁 In unanesthetized, spontaneously hypertensive rats the decrease in blood pressure and heart rate produced by intravenous clonidine was inhibited by naloxone.',
  'Lidocaine-induced cardiac asystole 🫀 after clonidine.',
];

let model: string;
beforeAll(async () => {
  model = await trainedModel();
}, 300_000);

describe('offsets', () => {
  it('OffsetMap converts UTF-16 offsets to code points and back', () => {
    const text = 'a😀b𠀀c';
    const map = new OffsetMap(text);
    expect(map.codePointLength).toBe(5);
    expect([0, 1, 3, 4, 6, 7].map((o) => map.toCodePoint(o))).toEqual([0, 1, 2, 3, 4, 5]);
    expect([0, 1, 2, 3, 4, 5].map((o) => map.toUtf16(o))).toEqual([0, 1, 3, 4, 6, 7]);
    expect(new OffsetMap('plain').toUtf16(3)).toBe(3);
  });
});

describe('predict', () => {
  it('JSONL: every input field passes through; offsets are code points', async () => {
    const dir = scratch();
    const input = join(dir, 'in.jsonl');
    const records = LINES.filter(Boolean).map((text, i) => ({ id: `PMID${i}`, text, meta: { source: 'test', n: i }, tags: ['kept'] }));
    writeFileSync(input, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
    await medner('predict', '--model', model, '--input', input, '--out', join(dir, 'out.jsonl'));
    const output = readFileSync(join(dir, 'out.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(output).toHaveLength(records.length);
    let entities = 0;
    output.forEach((o, i) => {
      expect(o).toMatchObject(records[i]!);
      for (const e of o.entities) {
        expect(sliceCodePoints(o.text, e.start, e.end)).toBe(e.text);
        entities++;
      }
    });
    expect(entities).toBeGreaterThan(2);
    // The astral characters come before entities, so code points and UTF-16 units differ there.
    const e0 = output[0].entities[0];
    expect(e0.start).toBe(o0CodePointIndex(output[0].text, e0.text));
  });

  it('brat: a multi-line input gives one .ann whose offsets index that text (stdout and --out x.ann)', async () => {
    const dir = scratch();
    const input = join(dir, 'notes.txt');
    const text = LINES.join('\r\n') + '\n';
    writeFileSync(input, text);
    const ann = await medner('predict', '--model', model, '--input', input, '--output-format', 'brat');
    const entities = parseBratAnn(ann, text, 'stdout.ann');
    expect(entities.length).toBeGreaterThan(2);
    for (const e of entities) expect(text.slice(e.start, e.end)).toBe(e.text);
    expect(new Set(entities.map((e) => e.id)).size).toBe(entities.length);
    // --out x.ann: inferred brat, writes x.txt beside it, a copy of the input.
    await medner('predict', '--model', model, '--input', input, '--out', join(dir, 'pair.ann'));
    expect(readFileSync(join(dir, 'pair.txt'), 'utf8')).toBe(text);
    expect(readFileSync(join(dir, 'pair.ann'), 'utf8')).toBe(ann);
  });

  it('PubTator in and out: titles and abstracts tagged, code-point offsets, reads back', async () => {
    const dir = scratch();
    const source = readFileSync(BC5CDR_PUBTATOR, 'utf8').replace(/\|t\|/g, '|t|😀 ');
    const input = join(dir, 'in.pubtator');
    writeFileSync(input, source);
    await medner('predict', '--model', model, '--input', input, '--out', join(dir, 'out.pubtator'));
    const gold = parsePubtator(source.split('\n').filter((l) => /\|[ta]\|/.test(l)).join('\n') + '\n');
    const predicted = parsePubtator(readFileSync(join(dir, 'out.pubtator'), 'utf8'), 'out.pubtator');
    expect(predicted.map((d) => [d.id, d.title, d.abstract])).toEqual(gold.map((d) => [d.id, d.title, d.abstract]));
    const mentions = predicted.flatMap((d) => d.entities.map((e) => ({ d, e })));
    expect(mentions.length).toBeGreaterThan(3);
    for (const { d, e } of mentions) expect(d.text.slice(e.start, e.end)).toBe(e.text);
    expect(predicted.reduce((n, d) => n + d.textMismatches, 0)).toBe(0);
    // No entity crosses from the title into the abstract.
    for (const { d, e } of mentions) expect(e.start >= d.titleEnd! + 1 || e.end <= d.titleEnd!).toBe(true);
    // JSONL output of PubTator input keeps the PMID with its entities.
    await medner('predict', '--model', model, '--format', 'pubtator', '--input', input, '--out', join(dir, 'out.jsonl'));
    const records = readFileSync(join(dir, 'out.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(records.map((r) => r.id)).toEqual(gold.map((d) => d.id));
    expect(records[0].entities.map((e: { start: number }) => e.start)).toEqual(predicted[0]!.entities.map((e) => new OffsetMap(predicted[0]!.text).toCodePoint(e.start)));
  });

  it('brat of several documents goes to a directory of pairs', async () => {
    const dir = scratch();
    const input = join(dir, 'in.jsonl');
    writeFileSync(input, LINES.filter(Boolean).map((text, i) => JSON.stringify({ id: `d/${i}`, text })).join('\n'));
    await expect(medner('predict', '--model', model, '--input', input, '--output-format', 'brat')).rejects.toThrow('needs --out <directory>');
    await medner('predict', '--model', model, '--input', input, '--output-format', 'brat', '--out', join(dir, 'brat'));
    expect(readdirSync(join(dir, 'brat')).sort()).toEqual(['d_0.ann', 'd_0.txt', 'd_1.ann', 'd_1.txt', 'd_2.ann', 'd_2.txt']);
    const text = readFileSync(join(dir, 'brat', 'd_1.txt'), 'utf8');
    for (const e of parseBratAnn(readFileSync(join(dir, 'brat', 'd_1.ann'), 'utf8'), text)) expect(text.slice(e.start, e.end)).toBe(e.text);
  });

  it('the old option name --input-format still works; conflicting values are refused; nothing is half-written', async () => {
    const dir = scratch();
    const input = join(dir, 'in.data');
    writeFileSync(input, JSON.stringify({ text: LINES[0] }) + '\n');
    await medner('predict', '--model', model, '--input', input, '--input-format', 'jsonl', '--out', join(dir, 'a.jsonl'));
    expect(JSON.parse(readFileSync(join(dir, 'a.jsonl'), 'utf8')).text).toBe(LINES[0]);
    await expect(medner('predict', '--model', model, '--input', input, '--input-format', 'jsonl', '--format', 'text')).rejects.toThrow('disagree');
    writeFileSync(input, JSON.stringify({ text: LINES[0] }) + '\n{oops\n');
    await expect(medner('predict', '--model', model, '--input', input, '--format', 'jsonl', '--out', join(dir, 'b.jsonl'))).rejects.toThrow('in.data:2: invalid JSON');
    expect(readdirSync(dir).sort()).toEqual(['a.jsonl', 'in.data']);
    expect(existsSync(join(dir, 'b.jsonl'))).toBe(false);
  });

  it('formats are inferred from file names and first lines', () => {
    const dir = scratch();
    writeFileSync(join(dir, 'CDR.PubTator.txt'), '1|t|x\n');
    writeFileSync(join(dir, 'abstracts.txt'), '1|t|x\n1|a|y\n');
    writeFileSync(join(dir, 'notes.txt'), 'plain text\n');
    expect(inferPredictInput(join(dir, 'CDR.PubTator.txt'))).toBe('pubtator');
    expect(inferPredictInput(join(dir, 'abstracts.txt'))).toBe('pubtator');
    expect(inferPredictInput(join(dir, 'notes.txt'))).toBe('text');
    expect(inferPredictInput('x.jsonl')).toBe('jsonl');
    expect(inferPredictInput('x.conll')).toBe('conll');
    expect(inferPredictInput('-')).toBe('text');
    expect(inferPredictOutput('x.ann')).toBe('brat');
    expect(inferPredictOutput('x.pubtator')).toBe('pubtator');
    expect(inferPredictOutput('x.tsv')).toBe('conll');
    expect(inferPredictOutput(undefined)).toBe('jsonl');
  });
});

/** Code-point index of the first occurrence of `needle` in `text`. */
function o0CodePointIndex(text: string, needle: string): number {
  return [...text.slice(0, text.indexOf(needle))].length;
}
