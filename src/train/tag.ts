// Tagging raw text or pre-tokenized sentences with a loaded model: sentence splitting and word
// tokenization, one batched pass through the model, entities with offsets and a confidence.
// The library API (Tagger.predict), medner predict and the browser page use it.

import type { LoadedCheckpoint } from './checkpoint.js';
import type { Backend } from '../backend/backend.js';
import { splitSentences, tokenizeWords, type TextSpan } from '../text/segment.js';
import { tagsToSpans } from '../data/schemes.js';
import type { Sentence } from '../data/types.js';

export interface PredictedEntity {
  /** Offsets into the text: UTF-16 code units from the library (JavaScript string indices), code points in CLI output. */
  start: number;
  end: number;
  text: string;
  label: string;
  /** Mean per-word posterior of the predicted tags: CRF marginals, or softmax probabilities. */
  score: number;
}

/**
 * One unit of input: a raw text or a pre-tokenized sentence, with what the writers need to give it back:
 * the input record's fields (JSONL), a document id, where a PubTator title ends, and for line-per-text
 * input the line's exact text with its line break (so brat offsets index the input file).
 */
export interface Item {
  text?: string;
  tokens?: string[];
  /** Fields of a JSONL input record, written back with the entities. */
  fields?: Record<string, unknown>;
  /** Document id: a PMID, a JSONL "id", a line number. */
  id?: string;
  /** Sentences never cross this offset (PubTator title | abstract). */
  titleEnd?: number;
  /** Text input: the line as it was in the input, line break included; blank lines are items with nothing to tag. */
  raw?: string;
  blank?: boolean;
  /** `file:line` (or `file: document id`) for errors. */
  where?: string;
}

export interface TaggedItem {
  item: Item;
  text: string;
  /** `marginals` (per word, per label of the checkpoint) only when tagItems was asked for them. */
  sentences: { words: TextSpan[]; tags: string[]; marginals?: number[][] }[];
  /** UTF-16 offsets into `text`. */
  entities: PredictedEntity[];
}

function wordsOf(item: Item): { text: string; sentences: TextSpan[][] } {
  if (item.tokens) {
    // Pre-tokenized: rebuild a text with single spaces so offsets stay meaningful.
    let offset = 0;
    const words = item.tokens.map((t) => {
      const span = { text: t, start: offset, end: offset + t.length };
      offset += t.length + 1;
      return span;
    });
    return { text: item.tokens.join(' '), sentences: words.length ? [words] : [] };
  }
  const text = item.text ?? '';
  if (item.blank) return { text, sentences: [] };
  const parts: [number, number][] = item.titleEnd !== undefined ? [[0, item.titleEnd], [item.titleEnd, text.length]] : [[0, text.length]];
  const sentences = parts.flatMap(([start, end]) => splitSentences(text, {}, start, end).map((s) => tokenizeWords(text, s.start, s.end)));
  return { text, sentences: sentences.filter((w) => w.length > 0) };
}

/** Tag many items in one batch: every sentence of every item goes through the model together. */
export async function tagItems(items: readonly Item[], loaded: LoadedCheckpoint, backend: Backend, options: { marginals?: boolean } = {}): Promise<TaggedItem[]> {
  const perItem = items.map(wordsOf);
  // Loaded on first use: the CLI registers `predict` without loading the model code.
  const { tagSentences } = await import('./evaluate.js');
  const flat: Sentence[] = perItem.flatMap((p) => p.sentences.map((words) => ({ tokens: words.map((w) => w.text), tags: words.map(() => 'O') })));
  const { tags, confidences, distributions } = flat.length
    ? await tagSentences(loaded.model, loaded.encoder, loaded.config.labels, flat, backend, { confidences: true, distributions: options.marginals })
    : { tags: [], confidences: [], distributions: null };
  const scheme = loaded.config.scheme;
  let k = 0;
  return perItem.map(({ text, sentences }, i) => {
    const tagged = sentences.map((words) => ({ words, tags: tags[k]!, marginals: distributions?.[k], scores: confidences![k++]! }));
    const entities = tagged.flatMap(({ words, tags: t, scores }) =>
      tagsToSpans(t, scheme).map((span) => {
        const start = words[span.start]!.start;
        const end = words[span.end - 1]!.end;
        const s = scores.slice(span.start, span.end);
        return { start, end, text: text.slice(start, end), label: span.type, score: Number((s.reduce((a, b) => a + b, 0) / s.length).toFixed(4)) };
      }),
    );
    return { item: items[i]!, text, sentences: tagged.map(({ words, tags: t, marginals }) => ({ words, tags: t, ...(marginals ? { marginals } : {}) })), entities };
  });
}

/** Tag one raw text; entities carry UTF-16 offsets into it (JavaScript string indices). */
export async function predictText(text: string, loaded: LoadedCheckpoint, backend: Backend): Promise<PredictedEntity[]> {
  return (await tagItems([{ text }], loaded, backend))[0]!.entities;
}
