// `medner convert`: read a corpus in one format (CoNLL, brat, PubTator, JSONL) and write it in another
// (CoNLL, brat, PubTator, JSONL) with a chosen label scheme, optionally mapping entity types. Formats not
// given are inferred from the file names. Output is written to a temporary path and renamed, so an error
// never leaves a partial file.

import { mkdir, open, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, basename } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { formatBratAnn, readBratDirectory, readBratDocument } from '../data/brat.js';
import { formatConll, readConllFile } from '../data/conll.js';
import { auditDocument, documentToSentences, emptyCorpusReport, sentencesToDocuments, setAsideCount, summarizeReport, type CorpusReport } from '../data/documents.js';
import { formatJsonl, readJsonlFile, type JsonlReadOptions, type JsonlWriteOptions } from '../data/jsonl.js';
import { formatPubtator, readPubtatorFile } from '../data/pubtator.js';
import { aliasedOption, CORPUS_FORMATS, resolveCorpusFormat } from '../data/formats.js';
import { countDocumentTypes, effectiveTypeMap, mapDocumentTypes, mapEntityTypes, type TypeMapOptions } from '../data/label-maps.js';
import { addCorpusOptions, corpusOptions, type CorpusFlags } from './corpus-options.js';
import { convertScheme, parseScheme, tagsToSpans, validateTags, type LabelScheme, type TaggingScheme } from '../data/schemes.js';
import type { AnnotatedDocument, Sentence } from '../data/types.js';

import { collect, loadCorpus, readDocuments, type InputFormat } from '../data/load.js';

export { loadCorpus, type InputFormat, type LoadedCorpus } from '../data/load.js';
export type OutputFormat = 'conll' | 'brat' | 'pubtator' | 'jsonl';

export interface ConvertOptions {
  /** Input format; inferred from the input's name (and first line) when absent or 'auto'. */
  from?: InputFormat | 'auto';
  /** Output format; inferred from the output's extension when absent. */
  to?: OutputFormat;
  /** Scheme of the written tags (default BIO). */
  scheme?: TaggingScheme;
  input: string;
  output: string;
  /** JSONL input: field names and the names of integer tags. */
  jsonl?: JsonlReadOptions;
  /** JSONL output: field names, and label names to write tags as integer ids. */
  jsonlOut?: JsonlWriteOptions;
  /** Make every corpus defect (overlap, duplicate, discontinuous, crossing, mismatch, no word) an error. */
  strict?: boolean;
  /** Entity types rewritten: a label map, then rare types grouped. */
  typeMap?: TypeMapOptions;
}

export interface ConvertSummary {
  documents: number;
  sentences: number;
  /** Every entity read, set aside (with its reason) or kept by a rule. */
  report: CorpusReport;
  /** Entities in the written file(s); always report.entities minus the set-aside ones and those a label map dropped. */
  written: number;
  /** Entities removed by the label map (types mapped to null). */
  droppedByMap?: number;
}

/** What a reader produced: offset-level documents (brat, PubTator) or token-level sentences (CoNLL, JSONL). */
/** --scheme's value: BIO or BIOES, or their other names (iob2, iobes, any case); the one place convert accepts those. */
function schemeOption(value: string): TaggingScheme {
  try {
    return parseScheme(value, ['BIO', 'BIOES']);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

/** BIOES if any E-/S- tag appears, else BIO (the lenient reading also accepts IOB1). */
function detectScheme(sentences: readonly Sentence[]): LabelScheme {
  return sentences.some((s) => s.tags.some((t) => /^[ESLU]-/.test(t))) ? 'BIOES' : 'BIO';
}

/**
 * A token-level sentence in the output scheme, its entities counted in the report. Tags that break their
 * scheme (I-X after O) are read as entity starts, as seqeval and IOB1 do, and counted.
 */
export function rescheme(sentence: Sentence, scheme: TaggingScheme, report: CorpusReport): Sentence {
  const from = detectScheme([sentence]) === 'BIOES' ? 'BIOES' : 'BIO';
  report.entities += tagsToSpans(sentence.tags, from).length;
  if (validateTags(sentence.tags, from).length > 0) report.repairedSentences++;
  return { ...sentence, tags: convertScheme(sentence.tags, from, scheme) };
}

/** Token-level sentences of any input, streamed: documents are tagged one at a time. */
export async function* readSentences(format: InputFormat | 'auto' | undefined, input: string, scheme: TaggingScheme, report: CorpusReport, jsonl: JsonlReadOptions = {}): AsyncGenerator<Sentence> {
  const resolved = resolveCorpusFormat(input, format);
  if (resolved === 'conll' || resolved === 'jsonl') {
    for await (const sentence of resolved === 'conll' ? readConllFile(input) : readJsonlFile(input, jsonl)) yield rescheme(sentence, scheme, report);
  } else {
    for await (const doc of readDocuments(resolved, input)) yield* documentToSentences(doc, { scheme }, report);
  }
}

/**
 * Documents for the offset-level outputs (brat, PubTator), which hold overlapping and discontinuous entities
 * as they are: only the count and the text mismatches apply. Token-level input becomes documents.
 */
async function readDocumentsFor(format: InputFormat | 'auto' | undefined, input: string, report: CorpusReport, jsonl: JsonlReadOptions): Promise<AnnotatedDocument[]> {
  const resolved = resolveCorpusFormat(input, format);
  if (resolved === 'conll' || resolved === 'jsonl') return sentencesToDocuments(await collect(readSentences(resolved, input, 'BIO', report, jsonl)), 'BIO');
  const documents = await collect(readDocuments(resolved, input));
  for (const doc of documents) auditDocument(doc, report, { flat: false });
  return documents;
}

/** brat output: one .txt and one .ann per document (relative path -> content). */
function renderBrat(documents: readonly AnnotatedDocument[]): Map<string, string> {
  const files = new Map<string, string>();
  const used = new Set<string>();
  for (const doc of documents) {
    let name = doc.id.replace(/[^\w.-]/g, '_') || 'doc';
    while (used.has(name)) name += '_';
    used.add(name);
    files.set(`${name}.txt`, doc.text);
    files.set(`${name}.ann`, formatBratAnn(doc.entities, doc.text));
  }
  return files;
}

/** A temporary name next to `output`; it is renamed into place only when everything is written. */
function temporaryPath(output: string): string {
  return join(dirname(output), `.${basename(output)}.tmp-${process.pid}-${Date.now()}`);
}

async function writeDirectoryAtomically(output: string, files: Map<string, string>): Promise<void> {
  const temporary = temporaryPath(output);
  try {
    await mkdir(temporary);
    for (const [name, content] of files) await writeFile(join(temporary, name), content);
    await rm(output, { recursive: true, force: true });
    await rename(temporary, output);
  } catch (error) {
    await rm(temporary, { recursive: true, force: true });
    throw error;
  }
}

/** Stream pieces of text into a file through a temporary name: only a megabyte is held at a time. */
async function writeFileAtomically(output: string, pieces: AsyncIterable<string> | Iterable<string>): Promise<void> {
  const temporary = temporaryPath(output);
  const file = await open(temporary, 'w');
  let buffered = '';
  try {
    for await (const piece of pieces) {
      buffered += piece;
      if (buffered.length >= 1 << 20) {
        await file.write(buffered);
        buffered = '';
      }
    }
    await file.write(buffered);
    await file.close();
    await rename(temporary, output);
  } catch (error) {
    await file.close().catch(() => undefined);
    await rm(temporary, { force: true });
    throw error;
  }
}

/** CoNLL or JSONL text of sentences, one sentence at a time, counting what is written. */
async function* formatSentences(sentences: AsyncIterable<Sentence>, to: 'conll' | 'jsonl', scheme: LabelScheme, jsonl: JsonlWriteOptions, counts: { sentences: number; entities: number; documents: number }): AsyncGenerator<string> {
  let docId: string | undefined;
  for await (const sentence of sentences) {
    let docStart = '';
    if (sentence.docId !== docId || counts.sentences === 0) {
      counts.documents++;
      if (to === 'conll' && sentence.docId !== undefined) docStart = '-DOCSTART-\tO\n\n';
      docId = sentence.docId;
    }
    counts.sentences++;
    counts.entities += tagsToSpans(sentence.tags, scheme).length;
    yield docStart + (to === 'conll' ? formatConll([sentence], { docStart: false }) : formatJsonl([sentence], jsonl));
  }
}

/** The promise, checked on every run: each entity read is written or counted as set aside. */
function checkAccounting(summary: ConvertSummary): void {
  const expected = summary.report.entities - setAsideCount(summary.report) - (summary.droppedByMap ?? 0);
  if (summary.written !== expected) throw new Error(`internal error: ${summary.report.entities} entities read, ${setAsideCount(summary.report)} set aside, but ${summary.written} written; please report this`);
}

/** Sentences with their entity types rewritten, one at a time; entities mapped to null are counted in `dropped`. */
async function* mapSentenceTypes(sentences: AsyncIterable<Sentence>, map: Record<string, string | null>, scheme: LabelScheme, dropped: { count: number }): AsyncGenerator<Sentence> {
  for await (const sentence of sentences) {
    const [mapped] = mapEntityTypes([sentence], map, scheme);
    dropped.count += tagsToSpans(sentence.tags, scheme).length - tagsToSpans(mapped!.tags, scheme).length;
    yield mapped!;
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
  const output = options.output.replace(/\/+$/, '');
  const report = emptyCorpusReport({ strict: options.strict });
  const scheme = options.scheme ?? 'BIO';
  let summary: ConvertSummary;
  if (to === 'brat' || to === 'pubtator') {
    let documents = await readDocumentsFor(options.from, options.input, report, options.jsonl ?? {});
    const read = documents.reduce((n, d) => n + d.entities.length, 0);
    if (options.typeMap) documents = mapDocumentTypes(documents, effectiveTypeMap(countDocumentTypes(documents), options.typeMap));
    const written = documents.reduce((n, d) => n + d.entities.length, 0);
    summary = { documents: documents.length, sentences: 0, report, written, droppedByMap: read - written };
    checkAccounting(summary);
    if (to === 'brat') await writeDirectoryAtomically(output, renderBrat(documents));
    else await writeFileAtomically(output, documents.map((doc, i) => (i > 0 ? '\n' : '') + formatPubtator([doc])));
    return summary;
  }
  const counts = { sentences: 0, entities: 0, documents: 0 };
  let sentences = readSentences(options.from, options.input, scheme, report, options.jsonl);
  const dropped = { count: 0 };
  if (options.typeMap) {
    // Rare types are known only after a first pass over the corpus; a plain label map needs none.
    const counts = new Map<string, number>();
    if (options.typeMap.minTypeCount) {
      for await (const s of readSentences(options.from, options.input, scheme, emptyCorpusReport(), options.jsonl)) for (const span of tagsToSpans(s.tags, scheme)) counts.set(span.type, (counts.get(span.type) ?? 0) + 1);
    }
    sentences = mapSentenceTypes(sentences, effectiveTypeMap(counts, options.typeMap), scheme, dropped);
  }
  await writeFileAtomically(output, formatSentences(sentences, to, scheme, options.jsonlOut ?? {}, counts));
  summary = { documents: counts.documents, sentences: counts.sentences, report, written: counts.entities, droppedByMap: dropped.count };
  checkAccounting(summary);
  return summary;
}

interface ConvertFlags extends CorpusFlags {
  format?: InputFormat;
  from?: InputFormat;
  outputFormat?: OutputFormat;
  to?: OutputFormat;
  scheme: TaggingScheme;
  strict?: boolean;
}

export function registerConvert(program: Command): void {
  const command = program
    .command('convert')
    .description('convert an annotated corpus between formats and label schemes (formats inferred from the file names when not given)')
    .addOption(new Option('--format <format>', 'input format (default: from the input name: directory/.ann = brat, .jsonl, .tsv/.conll/.iob, .pubtator or a PMID|t| first line)').choices([...CORPUS_FORMATS]))
    .addOption(new Option('--from <format>', 'alias of --format').choices([...CORPUS_FORMATS]).hideHelp())
    .addOption(new Option('--output-format <format>', 'output format (default: from the output name: .jsonl, .pubtator, .tsv/.conll, a directory = brat)').choices([...CORPUS_FORMATS]))
    .addOption(new Option('--to <format>', 'alias of --output-format').choices([...CORPUS_FORMATS]).hideHelp())
    .addOption(new Option('--scheme <scheme>', 'label scheme of the output tags: BIO or BIOES (iob2 and iobes are accepted for them)').argParser(schemeOption).default('BIO'))
    .option('--strict', 'stop with an error at the first overlapping, duplicate, discontinuous, sentence-crossing, mismatched or wordless entity instead of handling it by rule')
    .argument('<input>', 'input file (brat: a directory or one .txt/.ann)')
    .argument('<output>', 'output file (brat: a directory)');
  addCorpusOptions(command).action(async (input: string, output: string, flags: ConvertFlags) => {
    try {
      const from = aliasedOption<InputFormat>(flags as unknown as Record<string, unknown>, 'format', { from: '--from' });
      const to = aliasedOption<OutputFormat>(flags as unknown as Record<string, unknown>, 'outputFormat', { to: '--to' }) ?? inferOutputFormat(output);
      // --labels names integer tags in JSONL input, and makes JSONL output write them (as HF datasets do).
      const { typeMap, jsonl } = corpusOptions(flags);
      const summary = await convertCorpus({ from, to, scheme: flags.scheme, input, output, jsonl, jsonlOut: jsonl, strict: flags.strict === true, typeMap });
      const keeps = to === 'brat' || to === 'pubtator';
      const mapped = summary.droppedByMap ? `; ${summary.droppedByMap} dropped by the label map` : '';
      console.error(`converted ${summary.documents} document(s)${keeps ? '' : `, ${summary.sentences} sentence(s)`}; ${summarizeReport(summary.report)}${mapped}`);
    } catch (error) {
      console.error(`medner convert: ${(error as Error).message.split('\n')[0]}`);
      process.exitCode = 1;
    }
  });
}
