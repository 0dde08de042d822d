import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatBratAnn, parseBratAnn, readBratDirectory, readBratDocument } from '../../src/data/brat.js';
import { formatConll, parseConll, readConllFile } from '../../src/data/conll.js';
import { documentToSentences, emptyCorpusReport, sentencesToDocuments } from '../../src/data/documents.js';
import { firstInvalidUtf8Offset, readUtf8File } from '../../src/data/files.js';
import { formatJsonl, parseJsonl, readJsonlFile } from '../../src/data/jsonl.js';
import { parsePubtator, readPubtatorFile } from '../../src/data/pubtator.js';
import type { Sentence } from '../../src/data/types.js';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/data/${name}`, import.meta.url));
const collect = async <T>(items: AsyncIterable<T>) => {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
};
const tempDir = () => mkdtemp(join(tmpdir(), 'medner-data-'));

describe('CoNLL', () => {
  it('reads configurable columns, -DOCSTART- and blank-line sentences', () => {
    const text = '-DOCSTART- -X- -X- O\n\nEU NNP B-NP B-ORG\nrejects VBZ B-VP O\n\nPeter NNP B-NP B-PER\r\n\n-DOCSTART- -X- O\n\nJapan NNP B-NP B-LOC\n';
    const sentences = parseConll(text);
    expect(sentences.map((s) => s.tokens)).toEqual([['EU', 'rejects'], ['Peter'], ['Japan']]);
    expect(sentences.map((s) => s.docId)).toEqual(['doc1', 'doc1', 'doc2']);
    expect(parseConll(text, { tagColumn: 2 })[0]!.tags).toEqual(['B-NP', 'B-VP']);
    expect(parseConll('a\tI-X\nb\tI-X\nc\tB-X\n', { scheme: 'IOB1', targetScheme: 'BIO' })[0]!.tags).toEqual(['B-X', 'I-X', 'B-X']);
  });

  it('round-trips through the writer and streams files', async () => {
    const sentences: Sentence[] = [{ tokens: ['Naloxone', 'works'], tags: ['B-Chemical', 'O'], docId: 'd1' }, { tokens: ['x'], tags: ['O'], docId: 'd1' }];
    const dir = await tempDir();
    await writeFile(join(dir, 'a.conll'), formatConll(sentences));
    expect(await collect(readConllFile(join(dir, 'a.conll')))).toEqual(sentences.map((s) => ({ ...s, docId: 'doc1' })));
    const gold = await collect(readConllFile(fixture('bc5cdr/sample.iob.tsv')));
    expect(gold.length).toBe(10);
  });

  it('names the file and line of a missing tag column or a malformed tag', () => {
    expect(() => parseConll('a\tO\nlonely\n', {}, 'x.conll')).toThrow('x.conll:2: missing tag column');
    expect(() => parseConll('a\tO\nb\tQ-X\n', {}, 'x.conll')).toThrow("x.conll:2: malformed tag 'Q-X'");
  });
});

describe('brat', () => {
  it('reads T lines, discontinuous spans, and skips R/A/# lines', async () => {
    const zh = await readBratDocument(fixture('brat/case-zh.txt'));
    const disease = zh.entities.find((e) => e.id === 'T1')!;
    expect(disease.fragments).toEqual([[9, 12], [13, 15]]);
    expect(zh.text.slice(disease.start, disease.end)).toBe('2型糖\n尿病');
    const docs = await readBratDirectory(fixture('brat'));
    expect(docs.map((d) => d.id)).toEqual(['case-en', 'case-zh']);
    expect(docs[0]!.entities.length).toBe(8);
  });

  it('applies keep-longest to nested entities, reports them, and tags discontinuous extents', async () => {
    const report = emptyCorpusReport();
    const [en, zh] = await readBratDirectory(fixture('brat'));
    const sentences = [...documentToSentences(en!, {}, report), ...documentToSentences(zh!, {}, report)];
    expect(report.dropped.map((d) => `${d.entity.id}<${d.keptInstead.id}`)).toEqual(['T8<T1', 'T4<T3']);
    expect(report.discontinuous).toBe(1);
    const zhTokens = sentences.filter((s) => s.docId === 'case-zh').flatMap((s) => s.tokens.map((t, i) => `${t}/${s.tags[i]}`));
    expect(zhTokens.slice(8, 16).join(' ')).toBe('2/B-Disease 型/I-Disease 糖/I-Disease 尿/I-Disease 病/I-Disease 病/O 史/O 10/B-Duration');
  });

  it('writes .ann that reads back the same', async () => {
    const doc = await readBratDocument(fixture('brat/case-zh.ann'));
    const again = parseBratAnn(formatBratAnn(doc.entities, doc.text), doc.text);
    expect(again.map(({ type, start, end, fragments }) => ({ type, start, end, fragments }))).toEqual(doc.entities.map(({ type, start, end, fragments }) => ({ type, start, end, fragments })));
  });

  it('rejects offsets past the end, malformed lines, and a .txt without .ann', async () => {
    expect(() => parseBratAnn('T1\tDrug 0 4\tabcd\nT2\tDrug 3 99\tx\n', 'abcdef', 'd.ann')).toThrow('d.ann:2: offset 99 past the end of the text (length 6)');
    expect(() => parseBratAnn('T1 Drug 0 4 abcd\n', 'abcdef', 'd.ann')).toThrow('d.ann:1: malformed annotation line');
    const dir = await tempDir();
    await writeFile(join(dir, 'lonely.txt'), 'text');
    await expect(readBratDirectory(dir)).rejects.toThrow(`${join(dir, 'lonely.txt')}: no annotation file lonely.ann`);
  });
});

describe('PubTator', () => {
  it('joins title and abstract with one space; mention text equals the offset slice', async () => {
    const docs = await collect(readPubtatorFile(fixture('bc5cdr/sample.pubtator.txt')));
    expect(docs.map((d) => d.id)).toEqual(['227508', '354896']);
    expect(docs[0]!.text.slice(0, docs[0]!.titleEnd! + 3)).toBe('Naloxone reverses the antihypertensive effect of clonidine. In');
    for (const doc of docs) for (const e of doc.entities) expect(doc.text.slice(e.start, e.end)).toBe(e.text);
    expect(docs[0]!.relations[0]!.type).toBe('CID');
  });

  it('converts to the same IOB2 sentences as the published IOB files (NCBI-disease and BC5CDR samples)', async () => {
    for (const [pubtator, iob, collapse] of [['ncbi-disease/sample.pubtator.txt', 'ncbi-disease/sample.iob.tsv', true], ['bc5cdr/sample.pubtator.txt', 'bc5cdr/sample.iob.tsv', false]] as const) {
      const converted = parsePubtator(await readFile(fixture(pubtator), 'utf8')).flatMap((doc) => {
        if (collapse) doc.entities = doc.entities.map((e) => ({ ...e, type: 'Disease' }));
        return documentToSentences(doc).map(({ tokens, tags }) => ({ tokens, tags }));
      });
      expect(converted).toEqual(parseConll(await readFile(fixture(iob), 'utf8')));
    }
  });

  it('tolerates extra columns and composite ids; names file and line on errors', () => {
    const ok = parsePubtator('1|t|Ab cd\n1|a|ef\n1\t0\t2\tAb\tDisease\tD1|D2\textra\textra2\n');
    expect(ok[0]!.entities[0]).toMatchObject({ conceptId: 'D1|D2', type: 'Disease' });
    expect(() => parsePubtator('1|t|Ab cd\n1|a|ef\n1\t0\t20\tAb\tDisease\tD1\n', 'p.txt')).toThrow('p.txt:3: offset 20 past the end of document 1 (length 8)');
    expect(() => parsePubtator('1|t|Ab\n1\t0\n', 'p.txt')).toThrow('p.txt:2: malformed line');
    expect(() => parsePubtator('hello\n', 'p.txt')).toThrow("p.txt:1: expected a 'PMID|t|title' line");
  });
});

describe('JSONL', () => {
  it('reads tokens/tags and integer ner_tags, and writes them back', async () => {
    const text = '{"id": 7, "tokens": ["a", "b"], "ner_tags": [1, 0]}\n\n{"tokens": ["c"], "tags": ["S-X"]}\n';
    const sentences = parseJsonl(text, { labelNames: ['O', 'B-Drug'] });
    expect(sentences).toEqual([{ tokens: ['a', 'b'], tags: ['B-Drug', 'O'], docId: '7' }, { tokens: ['c'], tags: ['S-X'] }]);
    const dir = await tempDir();
    await writeFile(join(dir, 'a.jsonl'), formatJsonl(sentences));
    expect(await collect(readJsonlFile(join(dir, 'a.jsonl')))).toEqual(sentences);
  });

  it('names file and line of malformed records', () => {
    expect(() => parseJsonl('{"tokens": ["a"], "tags": ["O"]}\n{"tokens": ["a"]\n', {}, 'j.jsonl')).toThrow('j.jsonl:2: malformed JSON');
    expect(() => parseJsonl('{"tokens": ["a", "b"], "tags": ["O"]}\n', {}, 'j.jsonl')).toThrow('j.jsonl:1: 2 tokens but 1 tags');
    expect(() => parseJsonl('{"tokens": ["a"]}\n', {}, 'j.jsonl')).toThrow('j.jsonl:1: missing "tags"');
  });
});

describe('invalid UTF-8', () => {
  it('reports the file and the byte offset, whole-file and streaming', async () => {
    const dir = await tempDir();
    const path = join(dir, 'bad.conll');
    await writeFile(path, Buffer.concat([Buffer.from('caf\u00e9\tO\nab'), Buffer.from([0xc3, 0x28]), Buffer.from('\tO\n')]));
    expect(firstInvalidUtf8Offset(await readFile(path))).toBe(10);
    await expect(readUtf8File(path)).rejects.toThrow(`${path}: invalid UTF-8 at byte offset 10`);
    await expect(collect(readConllFile(path))).rejects.toThrow(`${path}: invalid UTF-8 at byte offset 10`);
    expect(firstInvalidUtf8Offset(Buffer.from([0x61, 0xed, 0xa0, 0x80]))).toBe(1); // an encoded surrogate
    expect(firstInvalidUtf8Offset(Buffer.from('ok 糖 😀'))).toBe(-1);
  });
});

describe('documents from sentences', () => {
  it('rebuilds text and entity offsets from tokens', () => {
    const [doc] = sentencesToDocuments([{ tokens: ['Take', 'aspirin', 'daily'], tags: ['O', 'B-Drug', 'O'] }, { tokens: ['Ok'], tags: ['S-X'] }], 'BIOES');
    expect(doc!.text).toBe('Take aspirin daily\nOk');
    expect(doc!.entities.map((e) => [e.type, doc!.text.slice(e.start, e.end)])).toEqual([['Drug', 'aspirin'], ['X', 'Ok']]);
  });
});
