// `medner predict`: tag raw text (split into sentences and words with character
// offsets, long sentences windowed) or pre-tokenized sentences. Input is a TEXT
// argument, a file, or standard input, read line by line and tagged in batches,
// so large inputs stream; output is JSONL entities, brat .ann lines, or CoNLL.

import type { Command } from 'commander';
import { Option } from 'commander';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { open, rename, unlink } from 'node:fs/promises';
import { loadCheckpoint, type LoadedCheckpoint } from '../train/checkpoint.js';
import { tagSentences } from '../train/evaluate.js';
import { splitSentences, tokenizeWords, type TextSpan } from '../text/segment.js';
import { tagsToSpans } from '../data/schemes.js';
import { formatConll } from '../data/conll.js';
import type { Sentence } from '../data/types.js';
import { selectBackend } from './backend-option.js';
import type { Backend } from '../backend/backend.js';

export interface PredictedEntity {
  start: number;
  end: number;
  text: string;
  label: string;
  /** Mean per-word posterior of the predicted tags: CRF marginals, or softmax probabilities. */
  score: number;
}

/** One unit of input: a raw text, or a pre-tokenized sentence. */
type Item = { text: string } | { tokens: string[] };

interface TaggedItem {
  text: string;
  sentences: { words: TextSpan[]; tags: string[] }[];
  entities: PredictedEntity[];
}

/** Tag many items in one batch: every sentence of every item goes through the model together. */
export async function tagItems(items: Item[], loaded: LoadedCheckpoint, backend: Backend): Promise<TaggedItem[]> {
  const perItem = items.map((item) => {
    if ('tokens' in item) {
      // Pre-tokenized: rebuild a text with single spaces so offsets stay meaningful.
      let offset = 0;
      const words = item.tokens.map((t) => {
        const span = { text: t, start: offset, end: offset + t.length };
        offset += t.length + 1;
        return span;
      });
      return { text: item.tokens.join(' '), sentences: words.length ? [words] : [] };
    }
    return { text: item.text, sentences: splitSentences(item.text).map((s) => tokenizeWords(item.text, s.start, s.end)).filter((w) => w.length > 0) };
  });
  const flat: Sentence[] = perItem.flatMap((p) => p.sentences.map((words) => ({ tokens: words.map((w) => w.text), tags: words.map(() => 'O') })));
  const { tags, confidences } = await tagSentences(loaded.model, loaded.encoder, loaded.config.labels, flat, backend, { confidences: true });
  const scheme = loaded.config.scheme === 'BIOES' ? 'iobes' : 'iob2';
  let k = 0;
  return perItem.map(({ text, sentences }) => {
    const tagged = sentences.map((words) => ({ words, tags: tags[k]!, scores: confidences![k++]! }));
    const entities = tagged.flatMap(({ words, tags: t, scores }) =>
      tagsToSpans(t, scheme).map((span) => {
        const start = words[span.start]!.start;
        const end = words[span.end - 1]!.end;
        const s = scores.slice(span.start, span.end);
        return { start, end, text: text.slice(start, end), label: span.type, score: Number((s.reduce((a, b) => a + b, 0) / s.length).toFixed(4)) };
      }),
    );
    return { text, sentences: tagged.map(({ words, tags: t }) => ({ words, tags: t })), entities };
  });
}

/** Tag one raw text; entities carry character offsets into it. */
export async function predictText(text: string, loaded: LoadedCheckpoint, backend: Backend): Promise<PredictedEntity[]> {
  return (await tagItems([{ text }], loaded, backend))[0]!.entities;
}

function format(item: TaggedItem, outputFormat: 'jsonl' | 'brat' | 'conll', entityCounter: { next: number }): string {
  if (outputFormat === 'jsonl') return JSON.stringify({ text: item.text, entities: item.entities }) + '\n';
  if (outputFormat === 'brat') {
    return item.entities.map((e) => `T${entityCounter.next++}\t${e.label} ${e.start} ${e.end}\t${e.text.replace(/\n/g, ' ')}`).join('\n') + (item.entities.length ? '\n' : '');
  }
  return formatConll(item.sentences.map((s) => ({ tokens: s.words.map((w) => w.text), tags: s.tags })));
}

/** Lines of a file or of stdin, as an async iterator. */
function lines(input: string): AsyncIterable<string> {
  const stream = input === '-' ? process.stdin : createReadStream(input, { encoding: 'utf8' });
  return createInterface({ input: stream, crlfDelay: Infinity });
}

/** Items from the input, per --input-format: a text per line, a JSON object per line, or CoNLL sentences. */
async function* readItems(input: string, inputFormat: 'text' | 'jsonl' | 'conll'): AsyncGenerator<Item> {
  let lineNumber = 0;
  let tokens: string[] = [];
  for await (const line of lines(input)) {
    lineNumber++;
    if (inputFormat === 'text') {
      if (line.trim()) yield { text: line };
    } else if (inputFormat === 'jsonl') {
      if (!line.trim()) continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (error) {
        throw new Error(`${input}:${lineNumber}: invalid JSON (${(error as Error).message})`);
      }
      const record = value as { text?: unknown; tokens?: unknown };
      if (typeof record.text === 'string') yield { text: record.text };
      else if (Array.isArray(record.tokens) && record.tokens.every((t) => typeof t === 'string')) yield { tokens: record.tokens as string[] };
      else throw new Error(`${input}:${lineNumber}: a JSONL line needs "text" (a string) or "tokens" (strings)`);
    } else {
      if (line.trim() === '') {
        if (tokens.length) yield { tokens };
        tokens = [];
      } else if (!line.startsWith('-DOCSTART-')) tokens.push(line.split(/\t| +/)[0]!);
    }
  }
  if (tokens.length) yield { tokens };
}

export function registerPredict(program: Command): void {
  program
    .command('predict')
    .description('tag raw text or pre-tokenized sentences; prints entities with character offsets and confidence scores')
    .argument('[text]', 'a text to tag (otherwise --input)')
    .requiredOption('--model <dir>', 'checkpoint directory (or a training output directory)')
    .option('--input <file>', "input file, or '-' for standard input")
    .addOption(new Option('--input-format <format>', 'text: one text per line; jsonl: {"text"} or {"tokens"} per line; conll: token column').choices(['text', 'jsonl', 'conll']).default('text'))
    .addOption(new Option('--output-format <format>', 'jsonl: {"text", "entities"} per input; brat: .ann lines; conll: tokens and tags').choices(['jsonl', 'brat', 'conll']).default('jsonl'))
    .option('--out <file>', 'write here (through a temporary file) instead of standard output')
    .option('--batch-size <n>', 'inputs tagged together', '64')
    .addOption(new Option('--backend <name>', 'compute backend').choices(['cpu', 'webgpu']))
    .action(async (text: string | undefined, flags: { model: string; input?: string; inputFormat: 'text' | 'jsonl' | 'conll'; outputFormat: 'jsonl' | 'brat' | 'conll'; out?: string; batchSize: string; backend?: string }) => {
      if (text === undefined && !flags.input) throw new Error('nothing to tag: give a TEXT argument or --input <file|->');
      if (text !== undefined && flags.input) throw new Error('give either a TEXT argument or --input, not both');
      if (text !== undefined && !text.trim()) throw new Error('the TEXT argument is empty');
      const batchSize = Number(flags.batchSize);
      if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`--batch-size must be a positive integer, got ${flags.batchSize}`);
      const backend = await selectBackend(flags.backend);
      const loaded = await loadCheckpoint(flags.model, backend);
      const tmp = flags.out ? `${flags.out}.tmp` : null;
      const file = tmp ? await open(tmp, 'w') : null;
      const write = async (s: string) => (file ? void (await file.write(s)) : void process.stdout.write(s));
      const counter = { next: 1 };
      let count = 0;
      try {
        const items: AsyncIterable<Item> | Item[] = text !== undefined ? [{ text }] : readItems(flags.input!, flags.inputFormat);
        let batch: Item[] = [];
        const flush = async () => {
          for (const tagged of await tagItems(batch, loaded, backend)) await write(format(tagged, flags.outputFormat, counter));
          count += batch.length;
          batch = [];
        };
        for await (const item of items) {
          batch.push(item);
          if (batch.length >= batchSize) await flush();
        }
        if (batch.length) await flush();
        if (count === 0) throw new Error(`${flags.input}: empty input, nothing to tag`);
        if (file) {
          await file.close();
          await rename(tmp!, flags.out!);
        }
      } catch (error) {
        if (file) {
          await file.close().catch(() => undefined);
          await unlink(tmp!).catch(() => undefined);
        }
        throw error;
      } finally {
        loaded.model.dispose();
      }
    });
}
