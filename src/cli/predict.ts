// `medner predict`: tag raw text (split into sentences and words with character
// offsets) or a pre-tokenized corpus, writing entities with offsets and
// confidences as JSONL, or tags as CoNLL. Output goes to a temporary file first.

import type { Command } from 'commander';
import { Option } from 'commander';
import { readFile, rename, writeFile, unlink } from 'node:fs/promises';
import { loadCheckpoint } from '../train/checkpoint.js';
import { loadSentences } from '../train/corpus.js';
import { tagSentences } from '../train/evaluate.js';
import { splitSentences, tokenizeWords } from '../text/segment.js';
import { tagsToSpans } from '../data/schemes.js';
import { decodeUtf8 } from '../data/files.js';
import { formatConll } from '../data/conll.js';
import type { Sentence } from '../data/types.js';
import { selectBackend } from './backend-option.js';
import type { Backend } from '../backend/backend.js';

export interface PredictedEntity {
  type: string;
  start: number;
  end: number;
  text: string;
  /** Mean per-word posterior of the predicted tags (CRF marginals, or softmax probabilities). */
  confidence: number;
}

/** Tag one raw text; entities carry character offsets into it. */
export async function predictText(text: string, loaded: Awaited<ReturnType<typeof loadCheckpoint>>, backend: Backend): Promise<PredictedEntity[]> {
  const sentences = splitSentences(text).map((s) => tokenizeWords(text, s.start, s.end)).filter((words) => words.length > 0);
  const asSentences: Sentence[] = sentences.map((words) => ({ tokens: words.map((w) => w.text), tags: words.map(() => 'O') }));
  const { tags, confidences } = await tagSentences(loaded.model, loaded.encoder, loaded.config.labels, asSentences, backend, { confidences: true });
  const scheme = loaded.config.scheme === 'BIOES' ? 'iobes' : 'iob2';
  return sentences.flatMap((words, i) =>
    tagsToSpans(tags[i]!, scheme).map((span) => {
      const start = words[span.start]!.start;
      const end = words[span.end - 1]!.end;
      const scores = confidences![i]!.slice(span.start, span.end);
      return { type: span.type, start, end, text: text.slice(start, end), confidence: Number((scores.reduce((a, b) => a + b, 0) / scores.length).toFixed(4)) };
    }),
  );
}

async function writeAtomically(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp`;
  try {
    await writeFile(tmp, text);
    await rename(tmp, path);
  } catch (error) {
    await unlink(tmp).catch(() => undefined);
    throw error;
  }
}

export function registerPredict(program: Command): void {
  program
    .command('predict')
    .description('tag raw text files (entities with character offsets and confidences, as JSONL) or a pre-tokenized corpus')
    .requiredOption('--model <dir>', 'checkpoint directory (or a training output directory)')
    .addOption(new Option('--format <format>', 'input: raw text, or a corpus to re-tag').choices(['text', 'conll', 'jsonl']).default('text'))
    .option('--out <file>', 'output file (default: standard output)')
    .addOption(new Option('--backend <name>', 'compute backend').choices(['cpu', 'webgpu']))
    .argument('<inputs...>', 'input files')
    .action(async (inputs: string[], flags: { model: string; format: 'text' | 'conll' | 'jsonl'; out?: string; backend?: string }) => {
      const backend = await selectBackend(flags.backend);
      const loaded = await loadCheckpoint(flags.model, backend);
      let output = '';
      for (const input of inputs) {
        if (flags.format === 'text') {
          const text = decodeUtf8(await readFile(input), input);
          const entities = await predictText(text, loaded, backend);
          output += JSON.stringify({ id: input, entities }) + '\n';
        } else {
          const { sentences } = await loadSentences(input, flags.format, loaded.config.scheme);
          const { tags } = await tagSentences(loaded.model, loaded.encoder, loaded.config.labels, sentences, backend);
          const tagged = sentences.map((s, i) => ({ ...s, tags: tags[i]! }));
          output += flags.format === 'conll' ? formatConll(tagged) : tagged.map((s) => JSON.stringify({ tokens: s.tokens, tags: s.tags })).join('\n') + '\n';
        }
      }
      if (flags.out) await writeAtomically(flags.out, output);
      else process.stdout.write(output);
      loaded.model.dispose();
    });
}
