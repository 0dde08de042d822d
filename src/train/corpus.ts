// Load a training/evaluation corpus in any supported format as sentences whose
// tags are in the model's scheme (BIO = IOB2, or BIOES).

import { loadCorpus } from '../cli/convert.js';
import { documentToSentences, emptyOverlapReport, type OverlapReport } from '../data/documents.js';
import { convertScheme, repairTags, validateTags } from '../data/schemes.js';
import type { Sentence } from '../data/types.js';
import type { CorpusFormat } from './config.js';

export interface LoadedSentences {
  sentences: Sentence[];
  overlaps: OverlapReport;
  /** Sentences whose tags were invalid in their scheme and were repaired (I- with no B-). */
  repaired: number;
}

export async function loadSentences(path: string, format: CorpusFormat, scheme: 'BIO' | 'BIOES'): Promise<LoadedSentences> {
  const corpus = await loadCorpus(format, path);
  const overlaps = emptyOverlapReport();
  const raw = corpus.kind === 'sentences' ? corpus.sentences : corpus.documents.flatMap((d) => documentToSentences(d, { scheme: 'iob2' }, overlaps));
  if (raw.length === 0) throw new Error(`${path}: no sentences found (is --format ${format} right?)`);
  // Files may be IOB1/IOB2/IOBES; detect IOBES by its tags, else treat as IOB2 and repair orphan I- tags.
  const isIobes = raw.some((s) => s.tags.some((t) => t.startsWith('E-') || t.startsWith('S-')));
  const from = isIobes ? 'iobes' : 'iob2';
  let repaired = 0;
  const sentences = raw.map((s) => {
    let tags = s.tags;
    if (validateTags(tags, from).length > 0) {
      tags = repairTags(tags, from);
      repaired++;
    }
    const target = scheme === 'BIOES' ? 'iobes' : 'iob2';
    return { ...s, tags: from === target ? tags : convertScheme(tags, from, target) };
  });
  return { sentences, overlaps, repaired };
}
