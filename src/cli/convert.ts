// `medner convert`: read a corpus in one format (CoNLL, brat, PubTator, JSONL) and write it in another
// (CoNLL, brat, PubTator, JSONL) with a chosen label scheme, optionally mapping entity types. Formats not
// given are inferred from the file names. Output is written to a temporary path and renamed, so an error
// never leaves a partial file.

import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, basename } from 'node:path';
import { Option, type Command } from 'commander';
import { formatBratAnn, readBratDirectory, readBratDocument } from '../data/brat.js';
import { formatConll, readConllFile } from '../data/conll.js';
import { documentToSentences, emptyOverlapReport, resolveOverlaps, sentencesToDocuments, type OverlapReport } from '../data/documents.js';
import { formatJsonl, readJsonlFile, readLabelNames, type JsonlReadOptions, type JsonlWriteOptions } from '../data/jsonl.js';
import { formatPubtator, readPubtatorFile } from '../data/pubtator.js';
import { aliasedOption, CORPUS_FORMATS, resolveCorpusFormat } from '../data/formats.js';
import { convertScheme, type LabelScheme } from '../data/schemes.js';
import type { AnnotatedDocument, Sentence } from '../data/types.js';

export type InputFormat = 'conll' | 'brat' | 'pubtator' | 'jsonl';
export type OutputFormat = 'conll' | 'brat' | 'pubtator' | 'jsonl';

export interface ConvertOptions {
  /** Input format; inferred from the input's name (and first line) when absent or 'auto'. */
  from?: InputFormat | 'auto';
  /** Output format; inferred from the output's extension when absent. */
  to?: OutputFormat;
  /** Scheme of the written tags (default iob2). */
  scheme?: 'iob2' | 'iobes';
  input: string;
  output: string;
  /** JSONL input: field names and the names of integer tags. */
  jsonl?: JsonlReadOptions;
  /** JSONL output: field names, and label names to write tags as integer ids. */
  jsonlOut?: JsonlWriteOptions;
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

export async function loadCorpus(format: InputFormat | 'auto' | undefined, input: string, jsonl: JsonlReadOptions = {}): Promise<LoadedCorpus> {
  switch (resolveCorpusFormat(input, format)) {
    case 'conll':
      return { kind: 'sentences', sentences: await collect(readConllFile(input)) };
    case 'jsonl':
      return { kind: 'sentences', sentences: await collect(readJsonlFile(input, jsonl)) };
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
export function renderCorpus(corpus: LoadedCorpus, to: OutputFormat, scheme: 'iob2' | 'iobes' = 'iob2', overlaps: OverlapReport = emptyOverlapReport(), jsonl: JsonlWriteOptions = {}): Map<string, string> {
  const files = new Map<string, string>();
  if (to === 'pubtator') {
    // PubTator, like brat, holds overlapping entities: all are written.
    const documents = corpus.kind === 'documents' ? corpus.documents : sentencesToDocuments(corpus.sentences, detectScheme(corpus.sentences));
    files.set('', formatPubtator(documents));
    return files;
  }
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
  files.set('', to === 'conll' ? formatConll(sentences) : formatJsonl(sentences, jsonl));
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

/** The output format from the output path: .jsonl, .pubtator, CoNLL extensions; a directory or .ann is brat. */
export function inferOutputFormat(output: string): OutputFormat {
  const base = output.split(/[\\/]/).filter(Boolean).pop() ?? '';
  const ext = base.includes('.') ? base.slice(base.lastIndexOf('.')).toLowerCase() : '';
  if (ext === '.jsonl' || ext === '.ndjson' || ext === '.json') return 'jsonl';
  if (ext === '.pubtator') return 'pubtator';
  if (['.conll', '.tsv', '.iob', '.iob2', '.bio', '.bioes', '.conllu'].includes(ext)) return 'conll';
  if (ext === '.ann' || ext === '' || output.endsWith('/')) return 'brat';
  throw new Error(`${output}: cannot tell the output format from the name; give --output-format (conll, brat, pubtator, jsonl)`);
}

export async function convertCorpus(options: ConvertOptions): Promise<ConvertSummary> {
  const to = options.to ?? inferOutputFormat(options.output);
  const corpus = await loadCorpus(options.from, options.input, options.jsonl);
  const overlaps = emptyOverlapReport();
  const files = renderCorpus(corpus, to, options.scheme ?? 'iob2', overlaps, options.jsonlOut);
  await writeAtomically(options.output.replace(/\/+$/, ''), files, to === 'brat');
  const documents = corpus.kind === 'documents' ? corpus.documents.length : new Set(corpus.sentences.map((s) => s.docId)).size;
  const sentences = to === 'conll' || to === 'jsonl' ? (to === 'jsonl' ? (files.get('') ?? '').split('\n').filter(Boolean).length : (files.get('') ?? '').split(/\n\n/).filter((b) => b.trim() && !b.startsWith('-DOCSTART-')).length) : 0;
  return { documents, sentences, overlaps };
}

interface ConvertFlags {
  format?: InputFormat;
  from?: InputFormat;
  outputFormat?: OutputFormat;
  to?: OutputFormat;
  scheme: 'iob2' | 'iobes';
  labels?: string;
  tokensField?: string;
  tagsField?: string;
}

export function registerConvert(program: Command): void {
  program
    .command('convert')
    .description('convert an annotated corpus between formats and label schemes (formats inferred from the file names when not given)')
    .addOption(new Option('--format <format>', 'input format (default: from the input name: directory/.ann = brat, .jsonl, .tsv/.conll/.iob, .pubtator or a PMID|t| first line)').choices([...CORPUS_FORMATS]))
    .addOption(new Option('--from <format>', 'alias of --format').choices([...CORPUS_FORMATS]).hideHelp())
    .addOption(new Option('--output-format <format>', 'output format (default: from the output name: .jsonl, .pubtator, .tsv/.conll, a directory = brat)').choices([...CORPUS_FORMATS]))
    .addOption(new Option('--to <format>', 'alias of --output-format').choices([...CORPUS_FORMATS]).hideHelp())
    .addOption(new Option('--scheme <scheme>', 'label scheme of the output tags').choices(['iob2', 'iobes']).default('iob2'))
    .option('--labels <file>', 'JSONL: label names of integer tags (one per line, a JSON list, HF features or id2label); for JSONL output, write tags as these ids')
    .option('--tokens-field <name>', 'JSONL: field of the token list (default tokens)')
    .option('--tags-field <name>', 'JSONL: field of the tag list (default tags, or ner_tags)')
    .argument('<input>', 'input file (brat: a directory or one .txt/.ann)')
    .argument('<output>', 'output file (brat: a directory)')
    .action(async (input: string, output: string, flags: ConvertFlags) => {
      try {
        const from = aliasedOption<InputFormat>(flags as unknown as Record<string, unknown>, 'format', { from: '--from' });
        const to = aliasedOption<OutputFormat>(flags as unknown as Record<string, unknown>, 'outputFormat', { to: '--to' }) ?? inferOutputFormat(output);
        const labelNames = flags.labels ? readLabelNames(flags.labels, flags.tagsField) : undefined;
        const fields = { tokensField: flags.tokensField, tagsField: flags.tagsField };
        const summary = await convertCorpus({ from, to, scheme: flags.scheme, input, output, jsonl: { ...fields, labelNames }, jsonlOut: { ...fields, labelNames } });
        const dropped = summary.overlaps.dropped.length;
        const keeps = to === 'brat' || to === 'pubtator';
        console.error(
          `converted ${summary.documents} document(s)` +
            (keeps ? '' : `, ${summary.sentences} sentence(s)`) +
            (dropped ? `; ${dropped} overlapping entit${dropped === 1 ? 'y' : 'ies'} ${keeps ? 'present (kept)' : 'dropped (kept the longest)'}` : '') +
            (summary.overlaps.discontinuous ? `; ${summary.overlaps.discontinuous} discontinuous tagged over their extent` : ''),
        );
      } catch (error) {
        console.error(`medner convert: ${(error as Error).message.split('\n')[0]}`);
        process.exitCode = 1;
      }
    });
}
