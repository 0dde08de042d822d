// `medner predict`: tag raw text (split into sentences and words with character offsets, long sentences
// windowed), pre-tokenized sentences, JSONL records or PubTator documents. Input is a TEXT argument, a
// file, or standard input, read line by line and tagged in batches, so large inputs stream; output is
// JSONL (every input field passed through, plus the entities), brat, PubTator or CoNLL. Offsets in every
// output count Unicode code points, as Python and the tools around medner do.

import type { Command } from 'commander';
import { Option } from 'commander';
import { mkdir, open, readFile, rename, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { LoadedCheckpoint } from '../train/checkpoint.js';
import { splitSentences, tokenizeWords, type TextSpan } from '../text/segment.js';
import { tagsToSpans } from '../data/schemes.js';
import { formatConll } from '../data/conll.js';
import { formatBratAnn } from '../data/brat.js';
import { formatPubtator, readPubtatorLines } from '../data/pubtator.js';
import { OffsetMap } from '../data/offsets.js';
import { firstInvalidUtf8Offset, type NumberedLine } from '../data/files.js';
import { aliasedOption, inferPredictInput, inferPredictOutput, type PredictInputFormat, type PredictOutputFormat } from '../data/formats.js';
import type { Sentence } from '../data/types.js';
import { selectBackend } from './backend-option.js';
import type { Backend } from '../backend/backend.js';
import { gzipInputError, isGzipPath, openInputBytes } from '../data/stream.js';
import { cpuSeconds, describeRun, openOutputFile, parseShard, selectItems, type DoneIds, type StreamStats } from './predict-stream.js';

// Tagging itself (tagItems, predictText) is library code in src/train/tag.ts; this file reads and writes.
import { tagItems, type Item, type PredictedEntity, type TaggedItem } from '../train/tag.js';
export { predictText, tagItems, type Item, type PredictedEntity, type TaggedItem } from '../train/tag.js';

/** The entities with code-point offsets (`shift` code points added: where the text starts in a larger one). */
export function codePointEntities(tagged: TaggedItem, shift = 0): PredictedEntity[] {
  const map = new OffsetMap(tagged.text);
  return tagged.entities.map((e) => ({ ...e, start: map.toCodePoint(e.start) + shift, end: map.toCodePoint(e.end) + shift }));
}

// ---------------------------------------------------------------- input

/** Lines with their line break ('\n', '\r\n' or '' at the end), decoded as strict UTF-8; a .gz file gunzipped. */
async function* inputLines(input: string): AsyncGenerator<NumberedLine & { ending: string }> {
  const name = input === '-' ? 'standard input' : input;
  const stream = openInputBytes(input);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let pending = '';
  let lineNumber = 0;
  let bytes = 0;
  const invalid = async (): Promise<Error> => {
    const offset = input === '-' || isGzipPath(input) ? `near byte offset ${bytes}` : `at byte offset ${firstInvalidUtf8Offset(await readFile(input))}`;
    return new Error(`${name}: invalid UTF-8 ${offset}`);
  };
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      try {
        pending += decoder.decode(chunk, { stream: true });
      } catch {
        throw await invalid();
      }
      bytes += chunk.length;
      if (lineNumber === 0 && pending.charCodeAt(0) === 0xfeff) pending = pending.slice(1);
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const crlf = nl > 0 && pending[nl - 1] === '\r';
        yield { line: pending.slice(0, crlf ? nl - 1 : nl), lineNumber: ++lineNumber, ending: crlf ? '\r\n' : '\n' };
        pending = pending.slice(nl + 1);
      }
    }
    try {
      pending += decoder.decode();
    } catch {
      throw await invalid();
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`${input}: no such file`);
    throw gzipInputError(error, name) ?? error;
  }
  if (pending !== '') yield { line: pending, lineNumber: ++lineNumber, ending: '' };
}

/** With --skip-invalid: the malformed JSONL lines passed over, reported at the end. */
export interface InvalidLines {
  skip: boolean;
  lines: number[];
}

/**
 * Items from the input: a text per line, a JSON object per line, CoNLL sentences, or PubTator documents. A
 * malformed JSONL line is an error naming it, or with `invalid.skip` is counted in `invalid.lines` and passed.
 */
export async function* readItems(input: string, format: PredictInputFormat, invalid: InvalidLines = { skip: false, lines: [] }): AsyncGenerator<Item> {
  const name = input === '-' ? 'standard input' : input;
  if (format === 'pubtator') {
    for await (const doc of readPubtatorLines(inputLines(input), name)) {
      yield { text: doc.text, id: doc.id, titleEnd: doc.titleEnd, fields: { id: doc.id }, where: `${name}: document ${doc.id}` };
    }
    return;
  }
  let tokens: string[] = [];
  let sentenceNumber = 0;
  for await (const { line, lineNumber, ending } of inputLines(input)) {
    if (format === 'text') {
      yield { text: line, raw: line + ending, id: String(lineNumber), blank: !line.trim(), fields: { line: lineNumber }, where: `${name}:${lineNumber}` };
    } else if (format === 'jsonl') {
      if (!line.trim()) continue;
      const bad = (reason: string) => {
        if (!invalid.skip) throw new Error(`${name}:${lineNumber}: ${reason} (--skip-invalid passes over such lines)`);
        invalid.lines.push(lineNumber);
      };
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (error) {
        bad(`invalid JSON (${(error as Error).message})`);
        continue;
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        bad('expected a JSON object');
        continue;
      }
      const record = value as Record<string, unknown>;
      const rawId = record.id ?? record.doc_id ?? record.pmid ?? record.docId;
      const id = typeof rawId === 'string' || typeof rawId === 'number' ? String(rawId) : String(lineNumber);
      const where = `${name}:${lineNumber}`;
      if (typeof record.text === 'string') yield { text: record.text, fields: record, id, where };
      else if (Array.isArray(record.tokens) && record.tokens.every((t) => typeof t === 'string')) yield { tokens: record.tokens as string[], fields: record, id, where };
      else bad('a JSONL line needs "text" (a string) or "tokens" (strings)');
    } else {
      if (line.trim() === '') {
        if (tokens.length) yield { tokens, id: String(++sentenceNumber), where: `${name}:${lineNumber}` };
        tokens = [];
      } else if (!line.startsWith('-DOCSTART-')) tokens.push(line.split(/\t| +/)[0]!);
    }
  }
  if (tokens.length) yield { tokens, id: String(++sentenceNumber) };
}

// ---------------------------------------------------------------- output

/** A file written under a temporary name and renamed into place when complete, or removed on failure. */
class AtomicFile {
  private constructor(readonly path: string, private readonly tmp: string, private readonly handle: FileHandle) {}

  static async open(path: string): Promise<AtomicFile> {
    const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}`);
    return new AtomicFile(path, tmp, await open(tmp, 'w'));
  }

  async write(s: string): Promise<void> {
    if (s) await this.handle.write(s);
  }

  async commit(): Promise<void> {
    await this.handle.close();
    await rename(this.tmp, this.path);
  }

  async abort(): Promise<void> {
    await this.handle.close().catch(() => undefined);
    await rm(this.tmp, { force: true });
  }
}

/** Where predictions go: standard output, a file, or (brat) a .txt/.ann pair or a directory of pairs. */
interface Writer {
  /** One batch of tagged inputs, in input order. */
  write(batch: readonly TaggedItem[]): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

const toStdout: Pick<AtomicFile, 'write'> = { write: async (s: string) => void process.stdout.write(s) };

/** One JSON object per input: its fields as given, the text, and the entities with code-point offsets. */
export function jsonlRecord(tagged: TaggedItem): Record<string, unknown> {
  const { item } = tagged;
  const base: Record<string, unknown> = item.fields ? { ...item.fields } : item.tokens ? { tokens: item.tokens } : {};
  if (base.text === undefined) base.text = tagged.text;
  base.entities = codePointEntities(tagged);
  return base;
}

function streamWriter(out: Pick<AtomicFile, 'write'> & Partial<Pick<AtomicFile, 'commit' | 'abort'>>, format: 'jsonl' | 'conll' | 'pubtator'): Writer {
  const format1 = (tagged: TaggedItem): string => {
    if (tagged.item.blank) return '';
    if (format === 'jsonl') return JSON.stringify(jsonlRecord(tagged)) + '\n';
    if (format === 'conll') return formatConll(tagged.sentences.map((s) => ({ tokens: s.words.map((w) => w.text), tags: s.tags })));
    const entities = tagged.entities.map((e) => ({ type: e.label, start: e.start, end: e.end }));
    return formatPubtator([{ id: tagged.item.id ?? '1', text: tagged.text, titleEnd: tagged.item.titleEnd, entities }]) + '\n';
  };
  return {
    // A batch's records in one write: a write per record (and a wait for it) cost 5% of a predict run.
    async write(batch) {
      const text = batch.map(format1).join('');
      if (text) await out.write(text);
    },
    commit: async () => out.commit?.(),
    abort: async () => out.abort?.(),
  };
}

/**
 * brat for line-per-text input: one document, the input itself; each line's entities shifted by the
 * line's start, so the .ann indexes the input text (on stdout, save it beside the input file).
 */
function bratSingleDocument(ann: Pick<AtomicFile, 'write'> & Partial<AtomicFile>, txt: AtomicFile | null): Writer {
  let offset = 0;
  let next = 1;
  return {
    async write(batch) {
      for (const tagged of batch) {
        const raw = tagged.item.raw ?? tagged.text;
        const entities = codePointEntities(tagged, offset);
        await ann.write(entities.map((e) => `T${next++}\t${e.label} ${e.start} ${e.end}\t${e.text.replace(/[\t\r\n]/g, ' ')}\n`).join(''));
        await txt?.write(raw);
        offset += new OffsetMap(raw).codePointLength;
      }
    },
    async commit() {
      await txt?.commit();
      await ann.commit?.();
    },
    async abort() {
      await txt?.abort();
      await ann.abort?.();
    },
  };
}

/** brat for documents (JSONL records, PubTator, CoNLL sentences): a directory with `<id>.txt` and `<id>.ann` each. */
async function bratDirectory(dir: string): Promise<Writer> {
  const tmp = join(dirname(dir), `.${basename(dir)}.tmp-${process.pid}`);
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  const used = new Set<string>();
  return {
    async write(batch) {
      for (const tagged of batch) {
        let name = (tagged.item.id ?? 'doc').replace(/[^\w.-]/g, '_') || 'doc';
        while (used.has(name)) name += '_';
        used.add(name);
        const entities = tagged.entities.map((e, i) => ({ id: `T${i + 1}`, type: e.label, start: e.start, end: e.end }));
        await writeFile(join(tmp, `${name}.txt`), tagged.text);
        await writeFile(join(tmp, `${name}.ann`), formatBratAnn(entities, tagged.text));
      }
    },
    async commit() {
      await rm(dir, { recursive: true, force: true });
      await rename(tmp, dir);
    },
    abort: () => rm(tmp, { recursive: true, force: true }),
  };
}

async function openWriter(format: PredictOutputFormat, out: string | undefined, oneDocument: boolean, resume: boolean): Promise<{ writer: Writer; done?: DoneIds }> {
  if (format !== 'brat') {
    if (!out) return { writer: streamWriter(toStdout, format) };
    // FILE.partial, renamed when complete; gzipped for .gz; resumable (predict-stream.ts).
    const { file, done } = await openOutputFile(out, format, resume);
    return { writer: streamWriter(file, format), done };
  }
  if (resume) throw new Error('--resume needs JSONL or PubTator output (their records carry the document ids), not brat');
  return { writer: await openBratWriter(out, oneDocument) };
}

async function openBratWriter(out: string | undefined, oneDocument: boolean): Promise<Writer> {
  if (oneDocument) {
    if (!out) return bratSingleDocument(toStdout, null);
    if (out.endsWith('.ann')) return bratSingleDocument(await AtomicFile.open(out), await AtomicFile.open(out.replace(/\.ann$/, '.txt')));
    return bratDirectory(out);
  }
  if (!out || out.endsWith('.ann')) throw new Error('brat output of several documents (JSONL, PubTator or CoNLL input) needs --out <directory>');
  return bratDirectory(out);
}

export interface PredictFlags {
  model: string;
  input?: string;
  format?: PredictInputFormat;
  inputFormat?: PredictInputFormat;
  outputFormat?: PredictOutputFormat;
  out?: string;
  resume?: boolean;
  shard?: string;
  shardBy: string;
  batchSize: string;
  backend?: string;
  skipInvalid?: boolean;
}

const INPUT_FORMATS = ['text', 'jsonl', 'conll', 'pubtator'];
const OUTPUT_FORMATS = ['jsonl', 'brat', 'conll', 'pubtator'];

export function registerPredict(program: Command): void {
  program
    .command('predict')
    .description('tag raw text, pre-tokenized sentences, JSONL records or PubTator documents; prints entities with code-point offsets and confidence scores')
    .argument('[text]', 'a text to tag (otherwise --input)')
    .requiredOption('--model <dir>', 'medner checkpoint, training output directory, or Hugging Face token-classification directory')
    .option('--input <file>', "input file, or '-' for standard input")
    .addOption(new Option('--format <format>', 'input format (default: from the file extension, else text). text: one text per line; jsonl: {"text"} or {"tokens"} per line, other fields passed through; conll: token column; pubtator: titles and abstracts').choices(INPUT_FORMATS))
    .addOption(new Option('--input-format <format>', 'alias of --format').choices(INPUT_FORMATS).hideHelp())
    .addOption(new Option('--output-format <format>', 'output format (default: from the --out extension, else jsonl). jsonl: each input with "entities"; brat: .ann (text input: offsets index the whole input; --out x.ann also writes x.txt, --out <dir> a pair per document); pubtator; conll').choices(OUTPUT_FORMATS))
    .option('--out <path>', "write here instead of standard output: through FILE.partial, renamed when complete; gzipped when it ends in .gz")
    .option('--resume', 'continue FILE.partial (or FILE) of an interrupted run: the ids already there are skipped, a half-written record is written again')
    .option('--shard <I/N>', 'tag only shard I of N (I = 0..N-1) of the input: documents whose position modulo N is I')
    .addOption(new Option('--shard-by <key>', 'position: round robin over the input order; id: FNV-1a hash of the document id modulo N').choices(['position', 'id']).default('position'))
    .option('--batch-size <n>', 'inputs tagged together', '64')
    .option('--skip-invalid', 'JSONL input: pass over malformed lines (invalid JSON, no "text"/"tokens") and report their count and line numbers at the end, instead of stopping at the first')
    .addOption(new Option('--backend <name>', 'compute backend').choices(['cpu', 'webgpu']))
    .action(async (text: string | undefined, flags: PredictFlags) => {
      if (text === undefined && !flags.input) throw new Error('nothing to tag: give a TEXT argument or --input <file|->');
      if (text !== undefined && flags.input) throw new Error('give either a TEXT argument or --input, not both');
      if (text !== undefined && !text.trim()) throw new Error('the TEXT argument is empty');
      const batchSize = Number(flags.batchSize);
      if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`--batch-size must be a positive integer, got ${flags.batchSize}`);
      const inputFormat = aliasedOption<PredictInputFormat>(flags as unknown as Record<string, unknown>, 'format', { inputFormat: '--input-format' }) ?? (text !== undefined ? 'text' : inferPredictInput(flags.input));
      const outputFormat = flags.outputFormat ?? inferPredictOutput(flags.out);
      const shard = flags.shard !== undefined ? parseShard(flags.shard, flags.shardBy) : undefined;
      if (flags.shardBy !== 'position' && !shard) throw new Error('--shard-by needs --shard I/N');
      if (flags.resume && !flags.out) throw new Error('--resume needs --out <file> (the output to continue)');
      const backend = await selectBackend(flags.backend);
      const { loadCheckpoint } = await import('../train/checkpoint.js');
      const loaded = await loadCheckpoint(flags.model, backend);
      const started = performance.now();
      const cpuStarted = process.cpuUsage();
      let writer: Writer | null = null;
      const stats: StreamStats = { read: 0, skipped: 0, selected: 0 };
      const invalid: InvalidLines = { skip: flags.skipInvalid === true, lines: [] };
      let sentences = 0;
      try {
        const opened = await openWriter(outputFormat, flags.out, text !== undefined || inputFormat === 'text', flags.resume === true);
        writer = opened.writer;
        const input: AsyncIterable<Item> | Item[] = text !== undefined ? [{ text, raw: text }] : readItems(flags.input!, inputFormat, invalid);
        const items = selectItems(input, { shard, done: opened.done }, stats);
        let batch: Item[] = [];
        const flush = async () => {
          const tagged = await tagItems(batch, loaded, backend);
          await writer!.write(tagged);
          for (const t of tagged) sentences += t.sentences.length;
          batch = [];
        };
        for await (const item of items) {
          batch.push(item);
          if (batch.length >= batchSize) await flush();
        }
        if (batch.length) await flush();
        if (invalid.lines.length) {
          const shown = invalid.lines.slice(0, 10).join(', ') + (invalid.lines.length > 10 ? ', ...' : '');
          console.error(`skipped ${invalid.lines.length} invalid line${invalid.lines.length === 1 ? '' : 's'} of ${flags.input === '-' ? 'standard input' : flags.input} (line${invalid.lines.length === 1 ? '' : 's'} ${shown})`);
        }
        if (stats.read === 0) throw new Error(`${flags.input === '-' ? 'standard input' : flags.input}: empty input, nothing to tag`);
        await writer.commit();
        if (flags.out) console.error(describeRun(stats, sentences, { wall: (performance.now() - started) / 1000, cpu: cpuSeconds(process.cpuUsage(cpuStarted)) }, shard, flags.out));
      } catch (error) {
        await writer?.abort();
        throw error;
      } finally {
        loaded.model.dispose();
      }
    });
}
