// `medner convert`: read a corpus in one format (CoNLL, brat, PubTator, JSONL) and write it in another
// (CoNLL, brat, JSONL) with a chosen label scheme. Output is written to a temporary path and renamed, so an
// error never leaves a partial file.

import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, basename } from 'node:path';
import { Option, type Command } from 'commander';
import { formatBratAnn, readBratDirectory, readBratDocument } from '../data/brat.js';
import { formatConll, readConllFile } from '../data/conll.js';
import { documentToSentences, emptyOverlapReport, resolveOverlaps, sentencesToDocuments, type OverlapReport } from '../data/documents.js';
import { formatJsonl, readJsonlFile } from '../data/jsonl.js';
import { readPubtatorFile } from '../data/pubtator.js';
import { convertScheme, type LabelScheme } from '../data/schemes.js';
import type { AnnotatedDocument, Sentence } from '../data/types.js';

export type InputFormat = 'conll' | 'brat' | 'pubtator' | 'jsonl';
export type OutputFormat = 'conll' | 'brat' | 'jsonl';

export interface ConvertOptions {
  from: InputFormat;
  to: OutputFormat;
  /** Scheme of the written tags (default iob2). */
  scheme?: 'iob2' | 'iobes';
  input: string;
  output: string;
}

export interface ConvertSummary {
  documents: number;
  sentences: number;
  overlaps: OverlapReport;
}

/** What a reader produced: offset-level documents (brat, PubTator) or token-level sentences (CoNLL, JSONL). */
export type LoadedCorpus = { kind: 'documents'; documents: AnnotatedDocument[] } | { kind: 'sentences'; sentences: Sentence[] };

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** IOBES if any E-/S- tag appears, else IOB2 (the lenient reading also accepts IOB1). */
function detectScheme(sentences: readonly Sentence[]): LabelScheme {
  return sentences.some((s) => s.tags.some((t) => /^[ESLU]-/.test(t))) ? 'iobes' : 'iob2';
}

export async function loadCorpus(from: InputFormat, input: string): Promise<LoadedCorpus> {
  switch (from) {
    case 'conll':
      return { kind: 'sentences', sentences: await collect(readConllFile(input)) };
    case 'jsonl':
      return { kind: 'sentences', sentences: await collect(readJsonlFile(input)) };
    case 'pubtator':
      return { kind: 'documents', documents: await collect(readPubtatorFile(input)) };
    case 'brat': {
      const isDirectory = (await stat(input)).isDirectory();
      return { kind: 'documents', documents: isDirectory ? await readBratDirectory(input) : [await readBratDocument(input)] };
    }
  }
}

/**
 * The pure part of convert: the output files (relative path -> content) for a loaded corpus. For CoNLL/JSONL
 * the result has one entry ''; for brat, one .txt and one .ann per document.
 */
export function renderCorpus(corpus: LoadedCorpus, to: OutputFormat, scheme: 'iob2' | 'iobes' = 'iob2', overlaps: OverlapReport = emptyOverlapReport()): Map<string, string> {
  const files = new Map<string, string>();
  if (to === 'brat') {
    const documents = corpus.kind === 'documents' ? corpus.documents : sentencesToDocuments(corpus.sentences, detectScheme(corpus.sentences));
    const used = new Set<string>();
    for (const doc of documents) {
      // brat itself can hold overlapping entities, so they are all written; only the counts are reported.
      if (corpus.kind === 'documents') resolveOverlaps(doc, overlaps);
      let name = doc.id.replace(/[^\w.-]/g, '_') || 'doc';
      while (used.has(name)) name += '_';
      used.add(name);
      files.set(`${name}.txt`, doc.text);
      files.set(`${name}.ann`, formatBratAnn(doc.entities, doc.text));
    }
    return files;
  }
  const sentences =
    corpus.kind === 'documents'
      ? corpus.documents.flatMap((doc) => documentToSentences(doc, { scheme }, overlaps))
      : corpus.sentences.map((s) => ({ ...s, tags: convertScheme(s.tags, detectScheme([s]) === 'iobes' ? 'iobes' : 'iob2', scheme) }));
  files.set('', to === 'conll' ? formatConll(sentences) : formatJsonl(sentences));
  return files;
}

/** Write everything under a temporary name next to the output, then rename it into place. */
async function writeAtomically(output: string, files: Map<string, string>, asDirectory: boolean): Promise<void> {
  const temporary = join(dirname(output), `.${basename(output)}.tmp-${process.pid}-${Date.now()}`);
  try {
    if (asDirectory) {
      await mkdir(temporary);
      for (const [name, content] of files) await writeFile(join(temporary, name), content);
      await rm(output, { recursive: true, force: true });
    } else await writeFile(temporary, files.get('') ?? '');
    await rename(temporary, output);
  } catch (error) {
    await rm(temporary, { recursive: true, force: true });
    throw error;
  }
}

export async function convertCorpus(options: ConvertOptions): Promise<ConvertSummary> {
  const corpus = await loadCorpus(options.from, options.input);
  const overlaps = emptyOverlapReport();
  const files = renderCorpus(corpus, options.to, options.scheme ?? 'iob2', overlaps);
  await writeAtomically(options.output, files, options.to === 'brat');
  const documents = corpus.kind === 'documents' ? corpus.documents.length : new Set(corpus.sentences.map((s) => s.docId)).size;
  const sentences = options.to === 'brat' ? 0 : (files.get('') ?? '').split(/\n\n/).filter((b) => b.trim() && !b.startsWith('-DOCSTART-')).length;
  return { documents, sentences, overlaps };
}

export function registerConvert(program: Command): void {
  program
    .command('convert')
    .description('convert an annotated corpus between formats and label schemes')
    .addOption(new Option('--from <format>', 'input format').choices(['conll', 'brat', 'pubtator', 'jsonl']).makeOptionMandatory())
    .addOption(new Option('--to <format>', 'output format').choices(['conll', 'brat', 'jsonl']).makeOptionMandatory())
    .addOption(new Option('--scheme <scheme>', 'label scheme of the output tags').choices(['iob2', 'iobes']).default('iob2'))
    .argument('<input>', 'input file (brat: a directory or one .txt/.ann)')
    .argument('<output>', 'output file (brat: a directory)')
    .action(async (input: string, output: string, flags: { from: InputFormat; to: OutputFormat; scheme: 'iob2' | 'iobes' }) => {
      try {
        const summary = await convertCorpus({ ...flags, input, output });
        const dropped = summary.overlaps.dropped.length;
        console.error(
          `converted ${summary.documents} document(s)` +
            (flags.to === 'brat' ? '' : `, ${summary.sentences} sentence(s)`) +
            (dropped ? `; ${dropped} overlapping entit${dropped === 1 ? 'y' : 'ies'} ${flags.to === 'brat' ? 'present (kept)' : 'dropped (kept the longest)'}` : '') +
            (summary.overlaps.discontinuous ? `; ${summary.overlaps.discontinuous} discontinuous tagged over their extent` : ''),
        );
      } catch (error) {
        console.error(`medner convert: ${(error as Error).message.split('\n')[0]}`);
        process.exitCode = 1;
      }
    });
}
