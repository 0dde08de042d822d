// A corpus file or directory read whole, in whichever format it is (CoNLL, JSONL, brat,
// PubTator; 'auto' from the name): the loader that training and medner convert share.

import { platform } from '../platform/index.js';
import { readBratDirectory, readBratDocument } from './brat.js';
import { readConllFile } from './conll.js';
import { readJsonlFile, type JsonlReadOptions } from './jsonl.js';
import { readPubtatorFile } from './pubtator.js';
import { resolveCorpusFormat } from './formats.js';
import type { AnnotatedDocument, Sentence } from './types.js';

export type InputFormat = 'conll' | 'brat' | 'pubtator' | 'jsonl';

export type LoadedCorpus = { kind: 'documents'; documents: AnnotatedDocument[] } | { kind: 'sentences'; sentences: Sentence[] };

export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

async function* bratDocuments(input: string): AsyncGenerator<AnnotatedDocument> {
  if (!(await platform.fs.stat(input)).isDirectory()) yield await readBratDocument(input);
  else yield* await readBratDirectory(input);
}

/** Offset-level documents (brat, PubTator), streamed one document at a time. */
export function readDocuments(format: 'brat' | 'pubtator', input: string): AsyncIterable<AnnotatedDocument> {
  return format === 'pubtator' ? readPubtatorFile(input) : bratDocuments(input);
}

export async function loadCorpus(format: InputFormat | 'auto' | undefined, input: string, jsonl: JsonlReadOptions = {}): Promise<LoadedCorpus> {
  const resolved = resolveCorpusFormat(input, format);
  switch (resolved) {
    case 'conll':
      return { kind: 'sentences', sentences: await collect(readConllFile(input)) };
    case 'jsonl':
      return { kind: 'sentences', sentences: await collect(readJsonlFile(input, jsonl)) };
    case 'pubtator':
    case 'brat':
      return { kind: 'documents', documents: await collect(readDocuments(resolved, input)) };
  }
}

