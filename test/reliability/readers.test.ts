// Property tests of every corpus reader. (a) write -> read round-trips random documents: random types, adjacent
// and nested spans, astral characters, empty lines, CRLF. (b) a random corruption of a valid file (a line
// deleted or duplicated, a field deleted or duplicated, a number replaced or two swapped, a truncated line,
// invalid UTF-8 or a NUL inserted) gives either a clean error naming a line (or the byte offset of the bad
// byte), or a parse that accounts for every entity record: written = read - set aside, read = the file's.

import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { readSentences } from '../../src/cli/convert.js';
import { formatBratAnn, parseBratAnn, readBratDocument } from '../../src/data/brat.js';
import { formatConll, parseConll, readConllFile } from '../../src/data/conll.js';
import { documentToSentences, emptyCorpusReport, setAsideCount, type CorpusReport } from '../../src/data/documents.js';
import { formatJsonl, parseJsonl, readJsonlFile } from '../../src/data/jsonl.js';
import { formatPubtator, parsePubtator } from '../../src/data/pubtator.js';
import { convertScheme, tagsToSpans } from '../../src/data/schemes.js';
import type { AnnotatedDocument, EntityMention, Sentence } from '../../src/data/types.js';
import { char, corrupt, corruption, entityType, namedLine, word, type Corrupted } from './corrupt.js';

const RUNS = 150;
let dir = '';
let fileCounter = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'medner-reliability-'));
});
const nextPath = (ext: string) => join(dir, `f${++fileCounter}.${ext}`);

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

const detect = (tags: readonly string[]) => (tags.some((t) => /^[ESLU]-/.test(t)) ? 'BIOES' : 'BIO');
const chunks = (sentences: readonly Sentence[]) => sentences.reduce((n, s) => n + tagsToSpans(s.tags, 'BIO').length, 0);

/** Random blank lines between records and CRLF line ends: the reader must not care. */
function reformat(text: string, blankLines: number, crlf: boolean): string {
  let out = text.replace(/\n\n/g, '\n' + '\n'.repeat(blankLines + 1));
  if (blankLines > 0) out = '\n'.repeat(blankLines) + out;
  return crlf ? out.replace(/\n/g, '\r\n') : out;
}

/**
 * The outcome of reading a corrupted file: either an error that names the changed line (or one of `slack`
 * lines after it; any line when slack is null; a test of its own) or the bad byte, or a parse, which `run`
 * checks for accounting.
 */
async function expectCleanOutcome(path: string, c: Corrupted, slack: number | null | ((line: number, message: string) => boolean), run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (error) {
    // The test's own accounting checks are failures, not reader errors.
    if ((error as Error).name === 'AssertionError') throw error;
    const message = (error as Error).message;
    if (c.badByteOffset !== null) return expect(message).toBe(`${path}: invalid UTF-8 at byte offset ${c.badByteOffset}`);
    expect(message.split('\n').length).toBe(1);
    const line = namedLine(message, path);
    expect(line, message).not.toBeNull();
    if (typeof slack === 'function') expect(slack(line!, message), message).toBe(true);
    else if (slack !== null) {
      expect(line, message).toBeGreaterThanOrEqual(c.lineNumber);
      expect(line, message).toBeLessThanOrEqual(c.lineNumber + slack);
    }
    return;
  }
  expect(c.badByteOffset, 'invalid UTF-8 was read without an error').toBeNull();
}

// ---- token-level formats ----

/** Random IOB2 sentences: each token O, a new entity (B), or the open entity continued (I). */
const sentences = fc.array(
  fc.record({
    words: fc.array(fc.tuple(word, fc.constantFrom('O', 'B', 'I'), entityType), { minLength: 1, maxLength: 10 }),
    docId: fc.option(fc.constantFrom('d1', 'd2', '🧬-3'), { nil: undefined }),
  }),
  { minLength: 1, maxLength: 6 },
).map((raw) =>
  raw.map(({ words, docId }): Sentence => {
    let open: string | null = null;
    const tags = words.map(([, prefix, type]) => {
      if (prefix === 'O') return (open = null), 'O';
      if (prefix === 'I' && open) return `I-${open}`;
      open = type;
      return `B-${type}`;
    });
    return { tokens: words.map(([w]) => w), tags, ...(docId === undefined ? {} : { docId }) };
  }),
);

describe('CoNLL reader', () => {
  it('round-trips random sentences in IOB2 and IOBES, with blank lines and CRLF', async () => {
    await fc.assert(
      fc.asyncProperty(sentences, fc.constantFrom('BIO', 'BIOES') as fc.Arbitrary<'BIO' | 'BIOES'>, fc.nat({ max: 2 }), fc.boolean(), async (input, scheme, blank, crlf) => {
        const written = input.map((s) => ({ tokens: s.tokens, tags: convertScheme(s.tags, 'BIO', scheme) }));
        const text = reformat(formatConll(written), blank, crlf);
        expect(parseConll(text).map(({ tokens, tags }) => ({ tokens, tags }))).toEqual(written);
        const path = nextPath('conll');
        await writeFile(path, text);
        expect((await collect(readConllFile(path))).map(({ tokens, tags }) => ({ tokens, tags }))).toEqual(written);
      }),
      { numRuns: RUNS },
    );
  });

  it('a corrupted file is an error naming the line, or every entity is accounted for', async () => {
    await fc.assert(
      fc.asyncProperty(sentences, corruption, async (input, c) => {
        const corrupted = corrupt(formatConll(input), c, '\t');
        const path = nextPath('conll');
        await writeFile(path, corrupted.bytes);
        await expectCleanOutcome(path, corrupted, 0, async () => {
          const report = emptyCorpusReport();
          const out = await collect(readSentences('conll', path, 'BIO', report));
          // The file's entities, counted without the reader: tag column, blank lines, -DOCSTART-.
          let expected = 0;
          let tags: string[] = [];
          const flush = () => ((expected += tagsToSpans(tags, detect(tags)).length), (tags = []));
          for (const raw of corrupted.bytes.toString('utf8').split('\n')) {
            const line = raw.replace(/\r$/, '');
            if (line.trim() === '') flush();
            else if (line.split(/[\t ]/)[0] === '-DOCSTART-') flush();
            else tags.push(line.includes('\t') ? line.split('\t').at(-1)! : line.trim().split(/[ \t]+/).at(-1)!);
          }
          flush();
          expect(report.entities).toBe(expected);
          expect(chunks(out)).toBe(report.entities - setAsideCount(report));
        });
      }),
      { numRuns: RUNS },
    );
  });
});

describe('JSONL reader', () => {
  // Tokens may hold anything JSON can: spaces, tabs, line breaks, quotes, astral characters.
  const anyToken = fc.array(fc.oneof(char, fc.constantFrom(' ', '\t', '\n', '"', '\\', '\u2028')), { minLength: 1, maxLength: 5 }).map((cs) => cs.join(''));
  const jsonlSentences = fc.tuple(sentences, fc.array(anyToken, { minLength: 60, maxLength: 60 })).map(([ss, pool]) =>
    ss.map((s, i) => ({ ...s, tokens: s.tokens.map((t, j) => ((i + j) % 3 === 0 ? pool[(i * 7 + j) % pool.length]! : t)) })),
  );

  it('round-trips random sentences, with blank lines and CRLF', async () => {
    await fc.assert(
      fc.asyncProperty(jsonlSentences, fc.nat({ max: 2 }), fc.boolean(), async (input, blank, crlf) => {
        const text = formatJsonl(input).split('\n').join('\n' + '\n'.repeat(blank));
        const final = crlf ? text.replace(/\n/g, '\r\n') : text;
        expect(parseJsonl(final)).toEqual(input);
        const path = nextPath('jsonl');
        await writeFile(path, final);
        expect(await collect(readJsonlFile(path))).toEqual(input);
      }),
      { numRuns: RUNS },
    );
  });

  it('a corrupted file is an error naming the line, or every entity is accounted for', async () => {
    await fc.assert(
      fc.asyncProperty(jsonlSentences, corruption, async (input, c) => {
        const corrupted = corrupt(formatJsonl(input), c, ',');
        const path = nextPath('jsonl');
        await writeFile(path, corrupted.bytes);
        await expectCleanOutcome(path, corrupted, 0, async () => {
          const report = emptyCorpusReport();
          const out = await collect(readSentences('jsonl', path, 'BIO', report));
          let expected = 0;
          for (const line of corrupted.bytes.toString('utf8').split('\n')) {
            if (line.trim() === '') continue;
            const record = JSON.parse(line) as { tags?: string[]; ner_tags?: string[] };
            const tags = record.tags ?? record.ner_tags!;
            expected += tagsToSpans(tags, detect(tags)).length;
          }
          expect(report.entities).toBe(expected);
          expect(chunks(out)).toBe(report.entities - setAsideCount(report));
        });
      }),
      { numRuns: RUNS },
    );
  });
});

// ---- offset-level formats ----

/** Code-unit offsets at code-point boundaries of `text` (entities never split an astral character). */
function boundaries(text: string): number[] {
  const out = [0];
  let offset = 0;
  for (const ch of text) out.push((offset += ch.length));
  return out;
}

/** Random entities over a text: any spans (nested, overlapping, adjacent, whitespace-only), some discontinuous. */
function randomEntities(text: string, picks: [number, number, number, number, string, boolean][]): EntityMention[] {
  const points = boundaries(text);
  const entities: EntityMention[] = [];
  for (const [a, b, c, d, type, discontinuous] of picks) {
    const sorted = [a, b, c, d].map((x) => points[x % points.length]!).sort((x, y) => x - y);
    const [s0, s1, s2, s3] = sorted as [number, number, number, number];
    if (discontinuous && s0 < s1 && s1 < s2 && s2 < s3) entities.push({ type, start: s0, end: s3, fragments: [[s0, s1], [s2, s3]] });
    else if (s0 < s3) entities.push({ type, start: s0, end: s3 });
  }
  return entities.map((e, i) => ({ ...e, id: `T${i + 1}` }));
}

const entityPicks = (discontinuous: boolean) =>
  fc.array(fc.tuple(fc.nat(), fc.nat(), fc.nat(), fc.nat(), entityType, discontinuous ? fc.boolean() : fc.constant(false)), { maxLength: 12 });

/** Every entity of a document is written as a tag chunk or counted as set aside; text mismatches are zero. */
function expectAccounted(doc: AnnotatedDocument, report: CorpusReport = emptyCorpusReport()): CorpusReport {
  const before = report.entities - setAsideCount(report);
  const out = documentToSentences(doc, {}, report);
  expect(chunks(out)).toBe(report.entities - setAsideCount(report) - before);
  return report;
}

describe('brat reader', () => {
  const pieces = fc.array(fc.oneof({ weight: 5, arbitrary: word }, { weight: 3, arbitrary: fc.constant(' ') }, fc.constantFrom('\n', '\r\n', '\n\n', '. ', '\t')), { minLength: 1, maxLength: 30 });
  const extraLines = ['R1\tTreats Arg1:T1 Arg2:T2', 'A1\tNegated T1', '#1\tAnnotatorNotes T1\tchecked', '*\tAlias T1 T2'];

  it('round-trips random documents (nested, adjacent, discontinuous spans; CRLF) and accounts for every entity', async () => {
    await fc.assert(
      fc.asyncProperty(pieces, entityPicks(true), fc.boolean(), async (parts, picks, crlf) => {
        const text = parts.join('');
        const entities = randomEntities(text, picks);
        let ann = formatBratAnn(entities, text) + extraLines.join('\n') + '\n';
        if (crlf) ann = ann.replace(/\n/g, '\r\n');
        const read = parseBratAnn(ann, text, 'doc.ann');
        const shape = (es: EntityMention[]) => es.map(({ id, type, start, end, fragments }) => ({ id, type, start, end, fragments }));
        expect(shape(read)).toEqual(shape(entities));
        const report = expectAccounted({ id: 'doc', text, entities: read });
        expect(report.entities).toBe(entities.length);
        expect(report.textMismatches).toBe(0);
      }),
      { numRuns: RUNS },
    );
  });

  it('a corrupted .ann is an error naming the line, or every T line is accounted for', async () => {
    await fc.assert(
      fc.asyncProperty(pieces, entityPicks(true), corruption, async (parts, picks, c) => {
        const text = parts.join('');
        const entities = randomEntities(text, picks);
        const ann = formatBratAnn(entities, text) + extraLines.join('\n') + '\n';
        const corrupted = corrupt(ann, c, /[\t ]/);
        const stem = nextPath('doc');
        await writeFile(`${stem}.txt`, text);
        await writeFile(`${stem}.ann`, corrupted.bytes);
        // A changed id may clash with a later line: that error names both lines. A duplicated line is reported
        // on the copy, one line down.
        await expectCleanOutcome(`${stem}.ann`, corrupted, (line, message) => line === corrupted.lineNumber || line === corrupted.lineNumber + 1 || message.includes(`used on line ${corrupted.lineNumber}`), async () => {
          const doc = await readBratDocument(`${stem}.txt`);
          const tLines = corrupted.bytes.toString('utf8').split('\n').filter((l) => l.startsWith('T')).length;
          const report = expectAccounted(doc);
          expect(report.entities).toBe(tLines);
        });
      }),
      { numRuns: RUNS },
    );
  });

  it('--strict turns each kind of defect into an error naming the .ann line', () => {
    const text = 'Type 2 diabetes and chest  pain.\nNext sentence here.';
    const cases: [string, RegExp][] = [
      ['T1\tDisease 5 15\t2 diabetes\nT2\tDisease 7 15\tdiabetes\n', /^d\.ann:2: Disease entity at 7-15 overlaps Disease at 5-15 \(line 1\)/],
      ['T1\tDisease 7 15\tdiabetes\nT2\tDisease 7 15\tdiabetes\n', /^d\.ann:2: duplicate/],
      ['T1\tSymptom 20 25;27 31\tchest pain\n', /^d\.ann:1: discontinuous Symptom entity/],
      ['T1\tDisease 7 15\tdiabetis\n', /^d\.ann:1: surface text 'diabetis' differs/],
      ['T1\tSymptom 26 27\t \n', /^d\.ann:1: Symptom entity at 26-27 covers no word/],
      ['T1\tSymptom 27 37\tpain. Next\n', /^d\.ann:1: Symptom entity at 27-37 crosses a sentence boundary/],
      ['T1\tSymptom 27 37\tpain. Next\nT2\tDisease 7 15\tdiabetes\n', /^d\.ann:1: Symptom/],
    ];
    for (const [ann, message] of cases) {
      const doc: AnnotatedDocument = { id: 'd', text, entities: parseBratAnn(ann, text, 'd.ann'), source: 'd.ann' };
      const lenient = emptyCorpusReport();
      documentToSentences(doc, {}, lenient);
      expect(lenient.entities).toBe(doc.entities.length);
      expect(() => documentToSentences(doc, {}, emptyCorpusReport({ strict: true }))).toThrow(message);
    }
  });
});

describe('PubTator reader', () => {
  const line = fc.array(fc.oneof({ weight: 4, arbitrary: word }, fc.constant(' '), fc.constant('|')), { maxLength: 20 }).map((p) => p.join(''));
  const documents = fc.array(fc.tuple(fc.integer({ min: 1, max: 99_999_999 }), line, line, entityPicks(false), fc.boolean()), { minLength: 1, maxLength: 4 }).map((raw) =>
    raw.map(([pmid, title, abstract, picks, relation], i) => {
      const text = `${title} ${abstract}`;
      const entities = randomEntities(text, picks).map(({ id: _id, ...e }, k) => ({ ...e, text: text.slice(e.start, e.end), conceptId: k % 3 === 0 ? undefined : `D${String(k).padStart(6, '0')}` }));
      return { doc: { id: String(pmid * 10 + i), text, titleEnd: title.length, entities }, relation };
    }),
  );
  /** PubTator text, with a CID relation line after some documents' mentions. */
  const render = (docs: { doc: AnnotatedDocument; relation: boolean }[]) =>
    docs.map(({ doc, relation }) => formatPubtator([doc]) + (relation ? `${doc.id}\tCID\tD000001\tD000002\n` : '')).join('\n');

  it('round-trips random documents (nested and overlapping mentions, astral characters, CRLF)', () => {
    fc.assert(
      fc.property(documents, fc.boolean(), (docs, crlf) => {
        let text = render(docs);
        if (crlf) text = text.replace(/\n/g, '\r\n');
        const read = parsePubtator(text, 'p.txt');
        expect(read.map((d) => d.id)).toEqual(docs.map((d) => d.doc.id));
        const report = emptyCorpusReport();
        read.forEach((doc, i) => {
          const original = docs[i]!.doc;
          expect(doc.text).toBe(original.text);
          // The writer orders mentions by offset.
          const shape = (es: EntityMention[]) => es.map(({ type, start, end, conceptId }) => ({ type, start, end, conceptId })).sort((a, b) => a.start - b.start || a.end - b.end);
          expect(shape(doc.entities)).toEqual(shape(original.entities));
          expect(doc.relations.length).toBe(docs[i]!.relation ? 1 : 0);
          expectAccounted(doc, report);
        });
        expect(report.textMismatches).toBe(0);
      }),
      { numRuns: RUNS },
    );
  });

  it('a corrupted file is an error naming a line, or every mention line is accounted for', async () => {
    await fc.assert(
      fc.asyncProperty(documents, corruption, async (docs, c) => {
        const text = render(docs);
        const lines = text.split('\n');
        const isMention = (l: string) => l.split('\t').length === 6;
        const corrupted = corrupt(text, c, '\t');
        const index = c.line % (lines[lines.length - 1] === '' ? lines.length - 1 : lines.length);
        // A mention line deleted, or truncated to nothing (a blank line), is one fewer; duplicated, one more.
        const blanked = c.kind === 'truncate' && corrupted.bytes.toString('utf8').split('\n')[index] === '';
        const mentions = lines.filter(isMention).length + (isMention(lines[index]!) ? (c.kind === 'duplicateLine' ? 1 : c.kind === 'deleteLine' || blanked ? -1 : 0) : 0);
        const path = nextPath('pubtator');
        await writeFile(path, corrupted.bytes);
        await expectCleanOutcome(path, corrupted, null, async () => {
          const report = emptyCorpusReport();
          const out = await collect(readSentences('pubtator', path, 'BIO', report));
          expect(report.entities).toBe(mentions);
          expect(chunks(out)).toBe(report.entities - setAsideCount(report));
        });
      }),
      { numRuns: RUNS },
    );
  });

  it('a mention whose start is not a number is an error, not a relation', () => {
    expect(() => parsePubtator('1|t|Ab cd\n1|a|ef\n1\tx\t2\tAb\tDisease\tD1\n', 'p.txt')).toThrow("p.txt:3: start offset 'x' is not a number");
    expect(parsePubtator('1|t|Ab cd\n1|a|ef\n1\t0\t2\tAb\tDisease\tD1\n1\tCID\tD1\tD2\n')[0]!.relations).toEqual([{ type: 'CID', arguments: ['D1', 'D2'] }]);
  });
});
