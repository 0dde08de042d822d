// Load a training/evaluation corpus in any supported format as sentences whose
// tags are in the model's scheme (BIO or BIOES), optionally with its
// entity types rewritten by a label map.

import { loadCorpus } from '../data/load.js';
import { documentToSentences, emptyCorpusReport, type CorpusReport } from '../data/documents.js';
import { convertScheme, repairTags, tagsToSpans, validateTags } from '../data/schemes.js';
import { mapEntityTypes } from '../data/label-maps.js';
import type { JsonlReadOptions } from '../data/jsonl.js';
import type { Sentence } from '../data/types.js';
import type { CorpusFormat } from './config.js';

export interface LoadedSentences {
  sentences: Sentence[];
  /** Entities read, set aside (overlaps, duplicates, no word) and kept by rule (repaired tag sequences, ...). */
  report: CorpusReport;
}

export interface CorpusReadOptions {
  /** Every corpus defect the report would count is an error naming its file and line instead. */
  strict?: boolean;
  /** JSONL: field names and the names of integer tags. */
  jsonl?: JsonlReadOptions;
  /** Entity types rewritten after reading: type -> new type, null (or "O") drops the type. */
  typeMap?: Readonly<Record<string, string | null>>;
}

export async function loadSentences(path: string, format: CorpusFormat, scheme: 'BIO' | 'BIOES', options: CorpusReadOptions = {}): Promise<LoadedSentences> {
  const corpus = await loadCorpus(format, path, options.jsonl);
  const report = emptyCorpusReport({ strict: options.strict });
  const raw = corpus.kind === 'sentences' ? corpus.sentences : corpus.documents.flatMap((d) => documentToSentences(d, { scheme: 'BIO' }, report));
  if (raw.length === 0) throw new Error(`${path}: no sentences found (is --format ${format} right?)`);
  // Files may be IOB1, BIO or BIOES; detect BIOES by its tags, else read as BIO and repair orphan I- tags.
  const isBioes = raw.some((s) => s.tags.some((t) => t.startsWith('E-') || t.startsWith('S-')));
  const from = isBioes ? 'BIOES' : 'BIO';
  const target = scheme;
  const sentences = raw.map((s) => {
    let tags = s.tags;
    if (corpus.kind === 'sentences') report.entities += tagsToSpans(tags, from).length;
    if (validateTags(tags, from).length > 0) {
      tags = repairTags(tags, from);
      report.repairedSentences++;
    }
    return { ...s, tags: from === target ? tags : convertScheme(tags, from, target) };
  });
  return { sentences: options.typeMap ? mapEntityTypes(sentences, options.typeMap, target) : sentences, report };
}
