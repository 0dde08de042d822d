// Checks the readers on the real corpora in ../shared/data (never run by tests):
//   tsx tools/check-real-data.ts <bc5cdr dir> <ncbi-disease dir> [<ruijin dir>]
// PubTator -> BIO conversion against the published IOB files, sentence by sentence, and brat corpus counts.

import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { readBratDirectory } from '../src/data/brat.js';
import { readConllFile } from '../src/data/conll.js';
import { documentToSentences, emptyCorpusReport, resolveOverlaps } from '../src/data/documents.js';
import { readPubtatorFile } from '../src/data/pubtator.js';
import type { Sentence } from '../src/data/types.js';

const sentenceKey = (s: Sentence) => `${s.tokens.join(' ')}\n${s.tags.join(' ')}`;
const tokensKey = (s: Sentence) => s.tokens.join(' ');

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

/** Share of gold sentences reproduced exactly (tokens and tags), matched as a multiset (file orders differ). */
async function comparePubtatorWithIob(pubtatorPath: string, iobPath: string, typeMap: (type: string) => string, dedupe: boolean) {
  const report = emptyCorpusReport();
  const converted: Sentence[] = [];
  const seenIds = new Set<string>();
  let mismatches = 0;
  for await (const doc of readPubtatorFile(pubtatorPath)) {
    if (dedupe && seenIds.has(doc.id)) continue;
    seenIds.add(doc.id);
    mismatches += doc.textMismatches;
    doc.entities = doc.entities.map((e) => ({ ...e, type: typeMap(e.type) }));
    converted.push(...documentToSentences(doc, { scheme: 'BIO' }, report));
  }
  const gold = await collect(readConllFile(iobPath));
  const available = new Map<string, number>();
  const availableTokens = new Map<string, number>();
  for (const s of converted) {
    available.set(sentenceKey(s), (available.get(sentenceKey(s)) ?? 0) + 1);
    availableTokens.set(tokensKey(s), (availableTokens.get(tokensKey(s)) ?? 0) + 1);
  }
  let exact = 0;
  let sameTokensOtherTags = 0;
  const examples: string[] = [];
  for (const s of gold) {
    const count = available.get(sentenceKey(s)) ?? 0;
    if (count > 0) {
      exact++;
      available.set(sentenceKey(s), count - 1);
    } else if ((availableTokens.get(tokensKey(s)) ?? 0) > 0) sameTokensOtherTags++;
    else if (examples.length < Number(process.env.EXAMPLES ?? 5)) examples.push(tokensKey(s).slice(0, 200));
  }
  return { gold: gold.length, converted: converted.length, exact, sameTokensOtherTags, dropped: report.dropped.length, duplicates: report.duplicates, mismatches, examples };
}

async function main() {
  const [bc5cdr, ncbi, ruijin] = process.argv.slice(2);
  if (!bc5cdr || !ncbi) throw new Error('usage: tsx tools/check-real-data.ts <bc5cdr dir> <ncbi-disease dir> [<ruijin dir>]');
  const pairs: [string, string, string, (t: string) => string, boolean][] = [
    ['BC5CDR train', join(bc5cdr, 'pubtator/CDR_TrainingSet.PubTator.txt'), join(bc5cdr, 'iob/train.tsv'), (t) => t, false],
    ['BC5CDR devel', join(bc5cdr, 'pubtator/CDR_DevelopmentSet.PubTator.txt'), join(bc5cdr, 'iob/devel.tsv'), (t) => t, false],
    ['BC5CDR test', join(bc5cdr, 'pubtator/CDR_TestSet.PubTator.txt'), join(bc5cdr, 'iob/test.tsv'), (t) => t, false],
    ['NCBI train', join(ncbi, 'original/NCBItrainset_corpus.txt'), join(ncbi, 'iob/train.tsv'), () => 'Disease', true],
    ['NCBI devel', join(ncbi, 'original/NCBIdevelopset_corpus.txt'), join(ncbi, 'iob/devel.tsv'), () => 'Disease', true],
    ['NCBI test', join(ncbi, 'original/NCBItestset_corpus.txt'), join(ncbi, 'iob/test.tsv'), () => 'Disease', true],
  ];
  console.log('| split | gold sentences | converted | identical | same tokens, other tags | overlaps dropped | % identical |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const [name, pubtator, iob, typeMap, dedupe] of pairs) {
    const r = await comparePubtatorWithIob(pubtator, iob, typeMap, dedupe);
    console.log(`| ${name} | ${r.gold} | ${r.converted} | ${r.exact} | ${r.sameTokensOtherTags} | ${r.dropped} | ${((100 * r.exact) / r.gold).toFixed(2)} |`);
    for (const example of r.examples) console.error(`  [${name}] unmatched: ${example}`);
  }
  if (ruijin) await reportBrat(ruijin);
}

async function reportBrat(dir: string) {
  const trainDir = (await readdir(dir)).includes('train') ? join(dir, 'train') : dir;
  const documents = await readBratDirectory(trainDir);
  const report = emptyCorpusReport();
  const perType = new Map<string, number>();
  let entities = 0;
  let characters = 0;
  let overlappingPairs = 0;
  let surfaceMismatches = 0;
  for (const doc of documents) {
    characters += doc.text.length;
    entities += doc.entities.length;
    for (const e of doc.entities) perType.set(e.type, (perType.get(e.type) ?? 0) + 1);
    surfaceMismatches += doc.entities.filter((e) => e.text !== undefined && e.text !== surfaceOf(doc.text, e)).length;
    const sorted = [...doc.entities].sort((a, b) => a.start - b.start);
    for (let i = 0; i < sorted.length; i++) {
      for (let j = i + 1; j < sorted.length && sorted[j]!.start < sorted[i]!.end; j++) overlappingPairs++;
    }
    resolveOverlaps(doc, report);
  }
  console.log(`\nbrat corpus ${trainDir}: ${documents.length} documents, ${characters} characters, ${entities} entities`);
  console.log(`discontinuous: ${report.discontinuous}; overlapping pairs: ${overlappingPairs}; dropped by keep-longest: ${report.dropped.length}; exact duplicates: ${report.duplicates}; surface text != slice: ${surfaceMismatches}`);
  console.log([...perType].sort((a, b) => b[1] - a[1]).map(([t, n]) => `${t} ${n}`).join(', '));
}

/** Fragments joined by one space, as brat writes the surface text of a discontinuous entity. */
function surfaceOf(text: string, e: { start: number; end: number; fragments?: [number, number][] }): string {
  return (e.fragments ?? [[e.start, e.end]]).map(([s, t]) => text.slice(s, t)).join(' ');
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
